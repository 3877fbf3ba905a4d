import { createWriteStream } from 'node:fs';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** The pack is larger than the configured limit: git's receive.maxInputSize message. */
export class PackTooLarge extends Error {
  constructor(readonly limit: number) {
    super('pack exceeds maximum allowed size');
    this.name = 'PackTooLarge';
  }
}

/**
 * Writes the incoming pack bytes to `path`, counting them. Past `maxBytes` it stops reading
 * (the client is not waited for) and throws PackTooLarge. Returns the number of bytes written.
 */
export async function spoolPack(source: AsyncIterable<Buffer>, path: string, maxBytes: number): Promise<number> {
  let total = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      total += chunk.length;
      if (total > maxBytes) callback(new PackTooLarge(maxBytes));
      else callback(null, chunk);
    },
  });
  await pipeline(Readable.from(source, { objectMode: false }), counter, createWriteStream(path, { flags: 'wx' }));
  return total;
}
