import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';

/**
 * Answers a GET of stored bytes (a pack, an LFS object) whole or as the one range the request
 * asks for (206; 416 past the end): clients resume a download that broke off with
 * `Range: bytes=N-`. `open` gives the bytes of [start, end); once the headers are out, a failed
 * transfer can only be reported (onCutShort) and the connection cut.
 */
export async function sendRanged(
  req: Request,
  res: Response,
  options: {
    size: number;
    contentType: string;
    open(range: { start: number; end: number }): Promise<Readable>;
    onCutShort(error: unknown): void;
  },
): Promise<void> {
  const { size } = options;
  const range = byteRange(req.get('range'), size);
  res.set({ 'Accept-Ranges': 'bytes', 'Cache-Control': 'private, no-transform', 'Content-Type': options.contentType });
  if (range === 'unsatisfiable') {
    res.status(416).set('Content-Range', `bytes */${size}`).end();
    return;
  }
  const { start, end } = range ?? { start: 0, end: size };
  const body = await options.open({ start, end });
  res.status(range ? 206 : 200).set('Content-Length', String(end - start));
  if (range) res.set('Content-Range', `bytes ${start}-${end - 1}/${size}`);
  try {
    await pipeline(body, res);
  } catch (error) {
    options.onCutShort(error);
    res.destroy();
  }
}

/**
 * The one range of a `Range: bytes=…` header (`a-b`, `a-`, `-n`) clamped to the blob; undefined
 * for the whole blob (no header, or one this server does not serve in parts: several ranges).
 */
export function byteRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header?.trim() ?? '');
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    return suffix === 0 ? 'unsatisfiable' : { start: Math.max(0, size - suffix), end: size };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size : Math.min(size, Number(match[2]) + 1);
  if (start >= size || end <= start) return 'unsatisfiable';
  return { start, end };
}
