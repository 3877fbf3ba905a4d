/**
 * Files Git LFS tracks, as the web UI shows them: the real file where git keeps its pointer. A
 * file page shows the object (text rendered, an image inline, else its size and a download), and
 * `/:owner/:repo/media/{ref}/{path}` downloads it — from the object store directly when the
 * store makes URLs for that, else streamed with `Range` — or the file itself when it is no pointer.
 */
import type { Readable } from 'node:stream';
import type { Request, Response } from 'express';
import { isBinary, LFS_POINTER_MAX_BYTES, parseLfsPointer, readFile, type LfsPointer, type TreeItem } from '@gitfleet/browse';
import type { ObjectId } from '@gitfleet/git-format';
import type { Repository } from '@gitfleet/repository';
import { formatBytes } from '../format-bytes.js';
import { openLfsObjects } from '../lfs/index.js';
import { LfsObjectNotFound, type LfsObjects } from '../lfs/objects.js';
import type { RevisionPath } from '../operations/revisions.js';
import { sendRanged } from '../ranged-download.js';
import type { ServerServices } from '../services.js';
import { html, type Html } from './html.js';
import { extensionOf, fileName, IMAGE_TYPES, setFileHeaders } from './raw-file.js';
import { refUrl } from './urls.js';

/** The pointer the file at `path` is, or undefined for an ordinary file (a file that size rules out is not read). */
export async function lfsPointerAt(repo: Repository, commit: ObjectId, entry: TreeItem): Promise<LfsPointer | undefined> {
  if ((entry.size ?? Infinity) >= LFS_POINTER_MAX_BYTES) return undefined;
  const file = await readFile(repo, commit, entry.path, { maxBytes: LFS_POINTER_MAX_BYTES });
  return parseLfsPointer(file.content);
}

export class LfsFiles {
  private readonly objects: LfsObjects;

  constructor(private readonly services: ServerServices) {
    this.objects = openLfsObjects(services);
  }

  /** Sends the object `pointer` names: a redirect to the object store, or its bytes (a range of them when asked). */
  async sendObject(req: Request, res: Response, repo: Repository, path: string, pointer: LfsPointer): Promise<void> {
    const direct = await this.objects.directDownloadUrl(repo.info.id, pointer.oid);
    if (direct) {
      res.redirect(302, direct);
      return;
    }
    const size = await this.objects.size(repo.info.id, pointer.oid);
    setFileHeaders(res, IMAGE_TYPES[extensionOf(path)] ?? 'application/octet-stream', fileName(path));
    await sendRanged(req, res, {
      size,
      contentType: res.get('Content-Type')!,
      open: (range) => this.objects.open(repo.info.id, pointer.oid, range),
      onCutShort: (error) => this.services.logger.warn({ err: error, oid: pointer.oid }, 'LFS download cut short'),
    });
  }

  /**
   * What a file page shows of an LFS file: the object's text to render like any file's when it
   * is text within the page limits, else a notice (an image inline, a download, a missing object).
   */
  async view(repo: Repository, revision: RevisionPath, pointer: LfsPointer): Promise<LfsFileView> {
    const info = repo.info;
    const mediaLink = refUrl(info, 'media', revision.ref, revision.path);
    const notice = (message: string) => ({
      notice: html`<div class="blob-notice" id="file-content" data-lfs="true">Stored with Git LFS: ${message}. <a id="media-link-notice" href="${mediaLink}">Download</a></div>`,
    });
    let stored: number;
    try {
      stored = await this.objects.size(info.id, pointer.oid);
    } catch (error) {
      if (!(error instanceof LfsObjectNotFound)) throw error;
      return {
        notice: html`<div class="blob-notice" id="file-content" data-lfs="missing">Stored with Git LFS, but object ${pointer.oid} (${formatBytes(pointer.size)}) is not on this server.</div>`,
      };
    }
    if (IMAGE_TYPES[extensionOf(revision.path)]) {
      return {
        notice: html`<div class="blob-image" id="file-content" data-lfs="true"><img src="${mediaLink}" alt="${revision.path}"></div>`,
      };
    }
    if (stored > this.services.config.browse.renderMaxBytes) return notice(`${formatBytes(stored)}, too large to display`);
    const text = await readWhole(await this.objects.open(info.id, pointer.oid, { start: 0, end: stored }));
    if (isBinary(text)) return notice(`binary file, ${formatBytes(stored)}`);
    return { text };
  }
}

/** An LFS file on its page: text to render, or a notice in its place. */
export type LfsFileView = { text: Buffer } | { notice: Html };

async function readWhole(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
