import type { Request } from 'express';
import type { RepositoryInfo } from '@gitfleet/repository';
import { HttpError } from '../http-errors.js';
import type { PackfileUriSigner } from '../packfile-uri-signing.js';
import type { ServerLinks } from './objects.js';

export type LinkPurpose = 'download' | 'upload' | 'verify';

/** What a signed transfer URL grants: one purpose, for one object of one size in one repository, until `expires`. */
export interface LfsGrant {
  purpose: LinkPurpose;
  repositoryId: string;
  oid: string;
  size: number;
  /** Seconds since the epoch. */
  expires: number;
}

/**
 * The server's own LFS transfer URLs, signed like its packfile URLs (same secret, same HMAC), so
 * that the client needs no credential for them and cannot turn one to another object, size,
 * purpose, repository or time. The grant is signed as the "pack" `lfs-<purpose>-<oid>-<size>`,
 * which no pack checksum (40 hex digits) can equal: a signature never serves both kinds of URL.
 */
export class LfsLinks {
  constructor(
    private readonly signer: PackfileUriSigner,
    private readonly baseUrl: (req: Request) => string,
    private readonly expirySeconds: number,
  ) {}

  /** The links of `repo` as the client of `req` reaches the server. */
  forRequest(req: Request, repo: RepositoryInfo): ServerLinks {
    const objectUrl = `${this.baseUrl(req)}/${encodeURIComponent(repo.owner)}/${encodeURIComponent(repo.name)}.git/info/lfs/objects/`;
    const link = async (purpose: LinkPurpose, oid: string, size: number) => {
      const expires = Math.floor(Date.now() / 1000) + this.expirySeconds;
      const signature = await this.sign({ purpose, repositoryId: repo.id, oid, size, expires });
      return `${objectUrl}${oid}${purpose === 'verify' ? '/verify' : ''}?size=${size}&expires=${expires}&signature=${signature}`;
    };
    return {
      download: (oid, size) => link('download', oid, size),
      upload: (oid, size) => link('upload', oid, size),
      verify: (oid, size) => link('verify', oid, size),
    };
  }

  /**
   * The repository and grant of the signed URL `req` came by; 403 when its signature does not
   * hold for `repo` (or there is no such repository: a URL tells nothing its holder was not
   * given) or it has expired.
   */
  async check(
    req: Request,
    purpose: LinkPurpose,
    repo: RepositoryInfo | undefined,
    oid: string,
  ): Promise<{ repo: RepositoryInfo; grant: LfsGrant }> {
    const refused = new HttpError(403, 'invalid LFS transfer URL: its signature does not match; ask the batch API for a fresh one');
    const size = Number(req.query.size);
    const expires = Number(req.query.expires);
    const signature = req.query.signature;
    if (!repo || !Number.isSafeInteger(size) || !Number.isSafeInteger(expires) || typeof signature !== 'string') throw refused;
    const grant: LfsGrant = { purpose, repositoryId: repo.id, oid, size, expires };
    if (!(await this.signer.verify(signedAs(grant), signature))) throw refused;
    if (expires * 1000 < Date.now()) {
      throw new HttpError(403, `LFS transfer URL expired at ${new Date(expires * 1000).toISOString()}; ask the batch API for a fresh one`);
    }
    return { repo, grant };
  }

  private sign(grant: LfsGrant): Promise<string> {
    return this.signer.sign(signedAs(grant));
  }
}

function signedAs({ purpose, repositoryId, oid, size, expires }: LfsGrant) {
  return { repositoryId, pack: `lfs-${purpose}-${oid}-${size}`, expires };
}
