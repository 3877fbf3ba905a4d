import crypto, { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import { PackFormatError } from './entry.js';

const TYPE_NAMES = ['', 'commit', 'tree', 'blob', 'tag'];

/** Objects up to this size are hashed in one call from a scratch copy: half the cost of a Hash object. */
const ONE_SHOT_LIMIT = 1 << 16;
const scratch = Buffer.allocUnsafe(ONE_SHOT_LIMIT + 32);
// crypto.hash arrived in Node 20.12; `engines` admits every Node 20.
const oneShot = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'buffer') => Buffer }).hash;

/** The 20-byte id git gives an object: SHA-1 of "<type> <size>\0" and the body. */
export function objectIdBytes(typeCode: number, data: Uint8Array): Buffer {
  const header = `${TYPE_NAMES[typeCode]} ${data.length}\0`;
  if (oneShot !== undefined && data.length <= ONE_SHOT_LIMIT) {
    const headerLength = scratch.write(header, 0, 'latin1');
    scratch.set(data, headerLength);
    return oneShot('sha1', scratch.subarray(0, headerLength + data.length), 'buffer');
  }
  return createHash('sha1').update(header).update(data).digest();
}

/**
 * Inflates one entry's zlib stream, which must produce exactly `size` bytes; `input` may run
 * past the stream's end. Returns the data and how many input bytes the stream took.
 * Output is capped at `size`, so a stream that inflates further (a bomb) stops there.
 * Throws PackFormatError, except for a stream cut short by the end of `input` (TruncatedInput),
 * after which the caller may retry with more input.
 */
export function inflateEntry(input: Uint8Array, size: number, entryOffset: number): { data: Buffer; consumed: number } {
  let result: { buffer: Buffer; engine: zlib.Inflate };
  try {
    result = zlib.inflateSync(input, { info: true, maxOutputLength: Math.max(1, size) }) as unknown as {
      buffer: Buffer;
      engine: zlib.Inflate;
    };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'Z_BUF_ERROR') throw new TruncatedInput();
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      throw new PackFormatError(`entry at offset ${entryOffset} inflates past its declared size of ${size} bytes`);
    }
    throw new PackFormatError(`entry at offset ${entryOffset} has corrupt zlib data: ${(error as Error).message}`);
  }
  if (result.buffer.length !== size) {
    throw new PackFormatError(`entry at offset ${entryOffset} inflates to ${result.buffer.length} bytes, its header declares ${size}`);
  }
  return { data: result.buffer, consumed: result.engine.bytesWritten };
}

export class TruncatedInput extends Error {
  override name = 'TruncatedInput';
}
