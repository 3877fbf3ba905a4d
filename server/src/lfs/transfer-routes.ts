import { Router, type Request } from 'express';
import { HttpError } from '../http-errors.js';
import { openRepository } from '../packfile-uris.js';
import { sendRanged } from '../ranged-download.js';
import { openRequestBody, requestMediaType } from '../request-body.js';
import type { ServerServices } from '../services.js';
import type { LfsLinks } from './links.js';
import { sendLfsJson } from './lfs-json.js';
import { OID_PATTERN, type LfsObjects } from './objects.js';
import { UploadOverQuota, type ResumableUploads } from './resumable-uploads.js';

const OBJECT_ROUTE = '/:owner/:repo/info/lfs/objects/:oid';
const TUS_VERSION = '1.0.0';
const TUS_PATCH_MEDIA_TYPE = 'application/offset+octet-stream';

/**
 * The basic transfer (docs/api/basic-transfers.md) through the server, for a blob store that
 * cannot make direct URLs (the embedded one) or when configured so: GET and PUT of an object and
 * the verify step, each at a URL signed by the batch answer. Bytes are streamed, never held whole.
 * At the same upload URL, the tus.io core protocol as git-lfs's `tus` adapter speaks it (HEAD
 * for the offset, PATCH from there), for uploads that resume where they broke off.
 */
export function transferRoutes(services: ServerServices, objects: LfsObjects, uploads: ResumableUploads, links: LfsLinks): Router {
  const router = Router();
  const grantOf = async (req: Request, purpose: 'download' | 'upload' | 'verify') => {
    const oid = String(req.params.oid);
    if (!OID_PATTERN.test(oid)) throw new HttpError(404, `no LFS object ${JSON.stringify(oid)}: an oid is 64 lower-case hex digits`);
    const repo = await openRepository(services, String(req.params.owner), String(req.params.repo));
    return links.check(req, purpose, repo?.info, oid);
  };

  router.options(OBJECT_ROUTE, (_req, res) => {
    res.set({ 'Tus-Resumable': TUS_VERSION, 'Tus-Version': TUS_VERSION, 'Tus-Max-Size': String(services.config.lfs.maxObjectBytes) });
    res.status(204).end();
  });

  // A HEAD without Tus-Resumable is the GET's, which express answers from the GET route below.
  router.head(OBJECT_ROUTE, async (req, res, next) => {
    if (req.get('tus-resumable') === undefined) return next();
    res.set('Tus-Resumable', TUS_VERSION);
    requireTusVersion(req);
    const { repo, grant } = await grantOf(req, 'upload');
    const offset = await uploads.offset(repo.id, { oid: grant.oid, size: grant.size });
    res.set({ 'Upload-Offset': String(offset), 'Upload-Length': String(grant.size), 'Cache-Control': 'no-store' });
    res.status(200).end();
  });

  router.patch(OBJECT_ROUTE, async (req, res) => {
    // On every answer, refusals too, as tus asks.
    res.set('Tus-Resumable', TUS_VERSION);
    requireTusVersion(req);
    if (requestMediaType(req) !== TUS_PATCH_MEDIA_TYPE)
      throw new HttpError(415, `a tus PATCH carries Content-Type ${TUS_PATCH_MEDIA_TYPE}`);
    const offsetHeader = req.get('upload-offset') ?? '';
    if (!/^\d{1,16}$/.test(offsetHeader)) throw new HttpError(400, 'a tus PATCH needs Upload-Offset, a non-negative integer');
    const offset = Number(offsetHeader);
    const { repo, grant } = await grantOf(req, 'upload');
    if (offset > grant.size) throw new HttpError(409, `Upload-Offset ${offset} is past the object's ${grant.size} bytes`);
    const room = await services.quotas.room(repo.owner, 'lfs');
    const body = openRequestBody(req, grant.size - offset);
    let reached: number;
    try {
      reached = await uploads.append(repo.id, { oid: grant.oid, size: grant.size }, offset, body.stream, room?.bytes);
    } catch (error) {
      if (error instanceof UploadOverQuota) throw new HttpError(507, `${error.message}: ${room?.reason}`);
      throw body.failure() ?? error;
    }
    // Already stored: the body was not read, and closing beats draining what may be gigabytes.
    if (reached === grant.size && body.bytesRead() < grant.size - offset) res.set('Connection', 'close');
    res.set('Upload-Offset', String(reached));
    res.status(204).end();
  });

  router.get(OBJECT_ROUTE, async (req, res) => {
    const { repo, grant } = await grantOf(req, 'download');
    await sendRanged(req, res, {
      size: await objects.size(repo.id, grant.oid),
      contentType: 'application/octet-stream',
      open: (range) => objects.open(repo.id, grant.oid, range),
      onCutShort: (error) => services.logger.info({ err: error, repo: repo.id, oid: grant.oid }, 'LFS download ended early'),
    });
  });

  router.put(OBJECT_ROUTE, async (req, res) => {
    const { repo, grant } = await grantOf(req, 'upload');
    const declared = req.get('content-length');
    if (declared !== undefined && Number(declared) !== grant.size) {
      throw new HttpError(400, `Content-Length ${declared} is not the object's size, ${grant.size} bytes; nothing was stored`);
    }
    const body = openRequestBody(req, grant.size);
    let stored: boolean;
    try {
      stored = await objects.receive(repo.id, { oid: grant.oid, size: grant.size }, body.stream);
    } catch (error) {
      throw body.failure() ?? error;
    }
    // Already stored: the body was not read, and closing beats draining what may be gigabytes.
    if (!stored) res.set('Connection', 'close');
    res.status(200).end();
  });

  router.post(`${OBJECT_ROUTE}/verify`, async (req, res) => {
    const { repo, grant } = await grantOf(req, 'verify');
    const outcome = await objects.verify(repo.id, { oid: grant.oid, size: grant.size });
    if (outcome === 'missing') throw new HttpError(404, `object ${grant.oid} was not uploaded; upload it again`);
    if (outcome === 'mismatch') {
      throw new HttpError(
        422,
        `the stored object ${grant.oid} is not ${grant.size} bytes with that SHA-256; ask the batch API again (an object of wrong bytes was removed)`,
      );
    }
    sendLfsJson(res, 200, { oid: grant.oid, size: grant.size });
  });
  return router;
}

/** tus answers 412 to a request of a protocol version it does not speak, naming the ones it does. */
function requireTusVersion(req: Request): void {
  if (req.get('tus-resumable') !== TUS_VERSION) {
    throw new HttpError(
      412,
      `tus version ${JSON.stringify(req.get('tus-resumable') ?? null)} is not supported: this server speaks ${TUS_VERSION}`,
      {
        headers: { 'Tus-Version': TUS_VERSION },
      },
    );
  }
}
