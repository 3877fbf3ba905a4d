import { createWriteStream } from 'node:fs';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** The pack is larger than the configured limit: git's receive.maxInputSize message. */
export class PackTooLarge extends Error {
  constructor(
    readonly limit: number,
    reason = 'pack exceeds maximum allowed size',
  ) {
    super(reason);
    this.name = 'PackTooLarge';
  }
}

/** The request stream failed while the pack was being read (the client went away). */
export class RequestAborted extends Error {
  constructor(cause: unknown) {
    super(`the request ended before the pack was read: ${(cause as Error).message ?? String(cause)}`, { cause });
    this.name = 'RequestAborted';
  }
}

/**
 * Writes the incoming pack bytes to `path`, counting them. Past `maxBytes` it stops reading
 * (the client is not waited for) and throws PackTooLarge (with `reason`, or git's message); a failing request throws RequestAborted. Returns the number of bytes written.
 */
export async function spoolPack(source: AsyncIterable<Buffer>, path: string, maxBytes: number, reason?: string): Promise<number> {
  let total = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      total += chunk.length;
      if (total > maxBytes) callback(new PackTooLarge(maxBytes, reason));
      else callback(null, chunk);
    },
  });
  const file = createWriteStream(path, { flags: 'wx' });
  try {
    await pipeline(Readable.from(fromRequest(source), { objectMode: false }), counter, file);
  } catch (error) {
    // pipeline rejects as soon as the request fails, while the file may still be opening: the
    // caller's clean-up must not run before the file exists, or the file outlives it.
    if (!file.closed) await new Promise<void>((resolve) => file.once('close', () => resolve()));
    throw error;
  }
  return total;
}

/** Tells a failing request apart from a failing spool file. */
async function* fromRequest(source: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  try {
    yield* source;
  } catch (error) {
    throw new RequestAborted(error);
  }
}
