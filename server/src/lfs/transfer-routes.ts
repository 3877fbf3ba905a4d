import { Router, type Request } from 'express';
import { HttpError } from '../http-errors.js';
import { openRepository } from '../packfile-uris.js';
import { sendRanged } from '../ranged-download.js';
import { openRequestBody } from '../request-body.js';
import type { ServerServices } from '../services.js';
import type { LfsLinks } from './links.js';
import { sendLfsJson } from './lfs-json.js';
import { OID_PATTERN, type LfsObjects } from './objects.js';

const OBJECT_ROUTE = '/:owner/:repo/info/lfs/objects/:oid';

/**
 * The basic transfer (docs/api/basic-transfers.md) through the server, for a blob store that
 * cannot make direct URLs (the embedded one) or when configured so: GET and PUT of an object and
 * the verify step, each at a URL signed by the batch answer. Bytes are streamed, never held whole.
 */
export function transferRoutes(services: ServerServices, objects: LfsObjects, links: LfsLinks): Router {
  const router = Router();
  const grantOf = async (req: Request, purpose: 'download' | 'upload' | 'verify') => {
    const oid = String(req.params.oid);
    if (!OID_PATTERN.test(oid)) throw new HttpError(404, `no LFS object ${JSON.stringify(oid)}: an oid is 64 lower-case hex digits`);
    const repo = await openRepository(services, String(req.params.owner), String(req.params.repo));
    return links.check(req, purpose, repo?.info, oid);
  };

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
