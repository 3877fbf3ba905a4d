import { Router, type Request, type Response } from 'express';
import { schemeOf, type PackfileUriSource } from '@gitfleet/protocol';
import { InvalidRepositoryName, MissingPackError, type Repository } from '@gitfleet/repository';
import { HttpError } from './http-errors.js';
import { countPackfileUri } from './metrics/packfile-uris.js';
import { PackfileUriSigner, packfileUriSecret, type PackfileGrant } from './packfile-uri-signing.js';
import { sendRanged } from './ranged-download.js';
import type { ServerServices } from './services.js';

/** The server's own packfile URLs: `/:owner/:repo.git/packfile-uris/pack-<checksum>.pack?expires=…&signature=…`. */
const ROUTE = '/:owner/:repo/packfile-uris/:file';
const PACK_FILE = /^pack-([0-9a-f]{40})\.pack$/;

/** What git-http.ts needs of packfile URIs: whether to advertise them, a source per request, and the route serving the server's own. */
export interface PackfileUris {
  readonly enabled: boolean;
  /** The URIs of packs for a clone asked through `req` (the server's own URLs start with the base URL the client used). */
  sourceFor(req: Request): PackfileUriSource | undefined;
  readonly router: Router;
}

export function packfileUris(services: ServerServices): PackfileUris {
  const { config, kv, logger } = services;
  const { mode, expirySeconds, secret } = config.packfileUris;
  const signer = new PackfileUriSigner(() => packfileUriSecret(kv, secret));

  const ownUrl = async (req: Request, repo: Repository, pack: string): Promise<string> => {
    const expires = Math.floor(Date.now() / 1000) + expirySeconds;
    const signature = await signer.sign({ repositoryId: repo.info.id, pack, expires });
    const path = `/${encodeURIComponent(repo.info.owner)}/${encodeURIComponent(repo.info.name)}.git/packfile-uris/pack-${pack}.pack`;
    return `${services.baseUrl(req)}${path}?expires=${expires}&signature=${signature}`;
  };

  const sourceFor = (req: Request): PackfileUriSource | undefined => {
    if (mode === 'off') return undefined;
    return {
      async uriFor(repo, pack, protocols) {
        try {
          if (mode === 'direct') {
            const direct = await repo.packs.directReadUrl(pack, expirySeconds);
            if (direct !== undefined && protocols.has(schemeOf(direct))) {
              countPackfileUri('store');
              return direct;
            }
          }
          const own = await ownUrl(req, repo, pack);
          if (!protocols.has(schemeOf(own))) return undefined;
          countPackfileUri('server');
          return own;
        } catch (error) {
          // The clone goes on without a URI: everything inline, as for any other client.
          logger.warn({ err: error, repo: repo.info.id, pack }, 'no packfile URI could be made; the pack goes inline');
          return undefined;
        }
      },
    };
  };

  const router = Router();
  router.get(ROUTE, (req, res) => servePack(services, signer, req, res));
  return { enabled: mode !== 'off', sourceFor, router };
}

/**
 * GET of a signed pack URL: the stored pack streamed as it is (no object is looked at), whole or
 * one byte range (git's http-fetch resumes a download that broke off with `Range: bytes=N-`).
 * Refused with 403 when the signature does not hold (altered, or made for another repository or
 * pack) or the URL has expired.
 */
async function servePack(services: ServerServices, signer: PackfileUriSigner, req: Request, res: Response): Promise<void> {
  const refused = new HttpError(403, 'invalid packfile URL: its signature does not match; fetch again for a fresh one');
  const pack = PACK_FILE.exec(String(req.params.file))?.[1];
  const expires = Number(req.query.expires);
  const signature = req.query.signature;
  if (pack === undefined || !Number.isSafeInteger(expires) || typeof signature !== 'string') throw refused;
  const repo = await openRepository(services, String(req.params.owner), String(req.params.repo));
  // A repository that does not exist answers as a bad signature: a URL tells nothing its holder was not given.
  const grant: PackfileGrant = { repositoryId: repo?.info.id ?? '', pack, expires };
  if (!repo || !(await signer.verify(grant, signature))) throw refused;
  if (expires * 1000 < Date.now()) {
    throw new HttpError(403, `packfile URL expired at ${new Date(expires * 1000).toISOString()}; fetch again for a fresh one`);
  }
  const size = await packSize(repo, pack);
  await sendRanged(req, res, {
    size,
    contentType: 'application/x-git-packed-objects',
    open: async ({ start, end }) => {
      try {
        return await repo.packs.stream(pack, start, end);
      } catch (error) {
        if (error instanceof MissingPackError) throw new HttpError(404, `pack ${pack} is no longer stored; fetch again`);
        throw error;
      }
    },
    onCutShort: (error) => services.logger.info({ err: error, repo: repo.info.id, pack }, 'packfile download ended early'),
  });
}

/** The repository a signed URL names ("name.git" accepted); undefined when there is none, so that its URL fails as a bad signature would. */
export async function openRepository(services: ServerServices, owner: string, nameInUrl: string): Promise<Repository | undefined> {
  const name = nameInUrl.endsWith('.git') ? nameInUrl.slice(0, -'.git'.length) : nameInUrl;
  try {
    return await services.registry.open(owner, name);
  } catch (error) {
    if (error instanceof InvalidRepositoryName) return undefined;
    throw error;
  }
}

/** The stored size of the pack, from the registry: active, or retired and still readable during its grace period. */
async function packSize(repo: Repository, pack: string): Promise<number> {
  const record = await repo.packs.info(pack);
  if (!record) throw new HttpError(404, `pack ${pack} is no longer stored; fetch again`);
  return record.size;
}
