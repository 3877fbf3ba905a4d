import { Readable } from 'node:stream';
import type { BlobBody, BlobInfo, BlobStore, ByteRange } from '../blob-store.js';
import { clampRange, validateBlobKey, validateBlobPrefix, validateByteRange } from '../validation.js';

/** Blobs in a Map, for unit tests of other packages. Buffers are copied in and out. */
export class MemoryBlobStore implements BlobStore {
  private readonly blobs = new Map<string, Buffer>();

  async putIfAbsent(key: string, body: BlobBody): Promise<boolean> {
    validateBlobKey(key);
    if (this.blobs.has(key)) return false;
    const bytes = Buffer.isBuffer(body) ? Buffer.from(body) : await readBody(key, body);
    // Checked again: another put may have finished while the body was read.
    if (this.blobs.has(key)) return false;
    this.blobs.set(key, bytes);
    return true;
  }

  async get(key: string, range?: ByteRange): Promise<Buffer | undefined> {
    const slice = this.slice(key, range);
    return slice && Buffer.from(slice);
  }

  async getStream(key: string, range?: ByteRange): Promise<Readable | undefined> {
    const slice = this.slice(key, range);
    return slice && Readable.from([Buffer.from(slice)]);
  }

  async head(key: string): Promise<BlobInfo | undefined> {
    validateBlobKey(key);
    const blob = this.blobs.get(key);
    return blob && { key, size: blob.length };
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    validateBlobPrefix(prefix);
    const keys = [...this.blobs.keys()].filter((key) => key.startsWith(prefix)).sort();
    for (const key of keys) {
      const blob = this.blobs.get(key);
      if (blob) yield { key, size: blob.length };
    }
  }

  async delete(key: string): Promise<void> {
    validateBlobKey(key);
    this.blobs.delete(key);
  }

  async close(): Promise<void> {}

  private slice(key: string, range: ByteRange | undefined): Buffer | undefined {
    validateBlobKey(key);
    if (range) validateByteRange(key, range);
    const blob = this.blobs.get(key);
    if (!blob) return undefined;
    const { start, end } = clampRange(range, blob.length);
    return blob.subarray(start, end);
  }
}

async function readBody(key: string, body: Exclude<BlobBody, Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body.open()) {
    const bytes = Buffer.from(chunk as Uint8Array);
    size += bytes.length;
    if (size > body.size) break;
    chunks.push(bytes);
  }
  if (size !== body.size) {
    const got = size > body.size ? `more than ${body.size}` : String(size);
    throw new Error(`blob ${key}: body stream gave ${got} bytes, but its declared size is ${body.size}`);
  }
  return Buffer.concat(chunks);
}
