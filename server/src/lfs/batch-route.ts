import type { Request, Response } from 'express';
import { authorizeRepository } from '../auth/index.js';
import { HttpError } from '../http-errors.js';
import { openRequestBody, requestMediaType } from '../request-body.js';
import type { ServerServices } from '../services.js';
import { parseBatchRequest } from './batch-request.js';
import type { LfsLinks } from './links.js';
import { LFS_MEDIA_TYPE, sendLfsJson } from './lfs-json.js';
import type { LfsObjects } from './objects.js';

/**
 * POST /:owner/:repo.git/info/lfs/objects/batch (docs/api/batch.md of git-lfs). Permissions as
 * for git over HTTP: read to download, write to upload, with git's 401 challenge so that the
 * client asks its credential helper, and 404 for a private repository to whoever may not read it.
 */
export function batchRoute(services: ServerServices, objects: LfsObjects, links: LfsLinks) {
  const { maxBatchBytes, maxBatchObjects } = services.config.lfs;
  return async (req: Request, res: Response): Promise<void> => {
    const body = await readJson(req, maxBatchBytes);
    const request = parseBatchRequest(body, maxBatchObjects);
    const needed = request.operation === 'upload' ? 'write' : 'read';
    const { repo } = await authorizeRepository(services, req, String(req.params.owner), String(req.params.repo), needed, 'git');
    const room = request.operation === 'upload' ? await services.quotas.room(repo.info.owner, 'lfs') : undefined;
    const answer = await objects.batch(repo.info.id, request, links.forRequest(req, repo.info), room);
    sendLfsJson(res, 200, answer);
  };
}

const JSON_MEDIA_TYPES = new Set([LFS_MEDIA_TYPE, 'application/json']);

async function readJson(req: Request, maxBytes: number): Promise<unknown> {
  const mediaType = requestMediaType(req);
  if (!JSON_MEDIA_TYPES.has(mediaType)) {
    throw new HttpError(415, `expected Content-Type ${LFS_MEDIA_TYPE}, got ${mediaType === '' ? 'none' : JSON.stringify(mediaType)}`);
  }
  const body = openRequestBody(req, maxBytes);
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of body.stream) chunks.push(chunk as Buffer);
  } catch (error) {
    throw body.failure() ?? error;
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new HttpError(422, `invalid batch request: the body is not JSON (${(error as Error).message})`);
  }
}
