import { Router } from 'express';
import { LfsObjectRecords } from '@gitfleet/repository';
import { apiErrorHandler } from '../api/errors.js';
import { PackfileUriSigner, packfileUriSecret } from '../packfile-uri-signing.js';
import type { ServerServices } from '../services.js';
import { batchRoute } from './batch-route.js';
import { sendLfsJson } from './lfs-json.js';
import { LfsLinks } from './links.js';
import { lfsLocksRouter } from './locks/routes.js';
import { LfsObjects } from './objects.js';
import { ResumableUploads } from './resumable-uploads.js';
import { transferRoutes } from './transfer-routes.js';

/**
 * Git LFS under `/:owner/:repo.git/info/lfs/` (the endpoint git-lfs derives from a clone URL):
 * the batch API, the basic transfer through the server where the bytes cannot go straight to
 * the object store, and the locks API. Mounted before git's smart HTTP.
 */
export function lfsRouter(services: ServerServices): Router {
  const { config, kv } = services;
  const objects = openLfsObjects(services);
  const signer = new PackfileUriSigner(() => packfileUriSecret(kv, config.packfileUris.secret));
  const links = new LfsLinks(signer, services.baseUrl, config.lfs.actionExpirySeconds);
  const router = Router();
  router.post('/:owner/:repo/info/lfs/objects/batch', batchRoute(services, objects, links));
  const uploads = new ResumableUploads(services.blobs, new LfsObjectRecords(kv), { pieceBytes: config.lfs.resumablePieceBytes });
  router.use(transferRoutes(services, objects, uploads, links));
  router.use(lfsLocksRouter(services));
  // Refusals as the spec's JSON `{message}`, which git-lfs shows; a 401 keeps its WWW-Authenticate.
  router.use(apiErrorHandler((res, status, message) => sendLfsJson(res, status, { message })));
  return router;
}

/** The LFS objects of the server's stores, as configured (the batch API and the web UI's media downloads share them). */
export function openLfsObjects({ config, kv, blobs }: ServerServices): LfsObjects {
  return new LfsObjects(blobs, new LfsObjectRecords(kv), {
    direct: config.lfs.transfer === 'direct',
    maxObjectBytes: config.lfs.maxObjectBytes,
    actionExpirySeconds: config.lfs.actionExpirySeconds,
    resumableMinBytes: config.lfs.resumableMinBytes,
  });
}
