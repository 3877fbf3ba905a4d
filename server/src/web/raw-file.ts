import { pipeline } from 'node:stream/promises';
import type { Response } from 'express';
import { BINARY_PROBE_BYTES, isBinary, type FileStream } from '@gitfleet/browse';

/** Image types a browser may show from /raw; everything else is text/plain or a download. */
export const IMAGE_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  ico: 'image/x-icon',
  avif: 'image/avif',
};

/**
 * Raw bytes, streamed from the pack, with a type that can never run as a page of this site:
 * text is text/plain, known raster images their own type, anything else a download (git's
 * binary test on the first bytes decides). `sandbox` and `nosniff` hold even if a browser disagrees.
 */
export async function sendRaw(res: Response, file: FileStream, immutable: boolean): Promise<void> {
  try {
    const { head, rest } = await firstBytes(file.stream as AsyncIterable<Buffer>, BINARY_PROBE_BYTES);
    const name = fileName(file.path);
    const type = isBinary(head) ? (IMAGE_TYPES[extensionOf(file.path)] ?? 'application/octet-stream') : 'text/plain; charset=utf-8';
    setFileHeaders(res, type, name);
    res.set('Content-Length', String(file.size));
    res.set('Cache-Control', immutable ? 'private, max-age=31536000, immutable' : 'private, no-cache');
    await pipeline(rest, res);
  } finally {
    // A client gone mid-way leaves the blob's stream unread: closing it releases what it holds.
    file.stream.destroy();
  }
}

/** The stream's first `length` bytes (fewer if it is shorter), and the whole stream again to send on. */
async function firstBytes(stream: AsyncIterable<Buffer>, length: number): Promise<{ head: Buffer; rest: AsyncIterable<Buffer> }> {
  const iterator = stream[Symbol.asyncIterator]();
  const read: Buffer[] = [];
  let total = 0;
  let done = false;
  while (total < length && !done) {
    const next = await iterator.next();
    if (next.done) done = true;
    else {
      read.push(next.value);
      total += next.value.length;
    }
  }
  async function* rest(): AsyncGenerator<Buffer> {
    yield* read;
    if (done) return;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  }
  return { head: Buffer.concat(read).subarray(0, length), rest: rest() };
}

/** The last component of a path: the name a download is saved under. */
export function fileName(path: string): string {
  return path.split('/').pop() || 'file';
}

/** The extension of a path's name, lower-cased ('' for none). */
export function extensionOf(path: string): string {
  const name = fileName(path);
  return name.includes('.') ? name.slice(name.lastIndexOf('.') + 1).toLowerCase() : '';
}

/**
 * The headers that keep a file of a repository from running as a page of this site: its type,
 * `nosniff`, a sandbox, and a download for anything not shown inline.
 */
export function setFileHeaders(res: Response, type: string, name: string): void {
  res.set('Content-Type', type);
  res.set('X-Content-Type-Options', 'nosniff');
  res.set('Content-Security-Policy', 'sandbox');
  if (type === 'application/octet-stream') res.set('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(name)}`);
}
