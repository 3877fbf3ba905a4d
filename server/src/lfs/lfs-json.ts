import type { Response } from 'express';

export const LFS_MEDIA_TYPE = 'application/vnd.git-lfs+json';

export function sendLfsJson(res: Response, status: number, body: unknown): void {
  // A Buffer, so that express adds no charset to the media type the spec names.
  res
    .status(status)
    .set('Content-Type', LFS_MEDIA_TYPE)
    .send(Buffer.from(JSON.stringify(body)));
}
