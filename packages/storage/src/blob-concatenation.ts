import { Readable } from 'node:stream';
import type { BlobInfo, BlobStore } from './blob-store.js';

/**
 * What a store that can build one blob out of others it holds offers besides the BlobStore
 * interface, without the bytes passing through the caller (S3's UploadPartCopy: the bucket
 * copies them itself). Optional: concatenateBlobs streams the parts through the caller for a
 * store without it.
 */
export interface BlobConcatenation {
  /**
   * Writes under `key`, unless a blob already exists there, the bytes of `parts` in order. Every
   * part but the last must hold at least MIN_CONCATENATED_PART_BYTES (S3's least part size).
   * Durable and all-or-nothing as putIfAbsent; a part absent or of another size than given rejects.
   * As with putIfAbsent, a store that ignores the condition on completing a multipart upload (Ceph
   * before Squid: measured) lets two racing concatenations into one key both report true, the
   * last one's bytes staying: callers write only keys whose bytes every writer agrees on.
   * @returns true if this call wrote the blob, false if it already existed.
   */
  concatenateIfAbsent(key: string, parts: readonly BlobInfo[]): Promise<boolean>;
}

/** S3's least size of a multipart upload's part (all but the last), which a concatenation copies one part per blob. */
export const MIN_CONCATENATED_PART_BYTES = 5 * 1024 * 1024;
/** S3's largest part of a multipart upload. */
export const MAX_CONCATENATED_PART_BYTES = 5 * 1024 ** 3;
/** S3's most parts of a multipart upload. */
export const MAX_CONCATENATED_PARTS = 10_000;

export function hasBlobConcatenation(store: BlobStore): store is BlobStore & BlobConcatenation {
  return typeof (store as Partial<BlobConcatenation>).concatenateIfAbsent === 'function';
}

/**
 * Writes under `key`, unless a blob already exists there, the bytes of `parts` in order: by the
 * store itself when it can, else streamed through this process (one part open at a time).
 * @returns true if this call wrote the blob, false if it already existed.
 */
export async function concatenateBlobs(store: BlobStore, key: string, parts: readonly BlobInfo[]): Promise<boolean> {
  if (parts.length > MAX_CONCATENATED_PARTS)
    throw new RangeError(`concatenation into ${key}: ${parts.length} parts, over ${MAX_CONCATENATED_PARTS}`);
  const large = parts.find((part) => part.size > MAX_CONCATENATED_PART_BYTES);
  if (large) throw new RangeError(`concatenation into ${key}: part ${large.key} holds ${large.size} bytes, over the largest part size`);
  const small = parts.slice(0, -1).find((part) => part.size < MIN_CONCATENATED_PART_BYTES);
  if (small) throw new RangeError(`concatenation into ${key}: part ${small.key} holds ${small.size} bytes, under the least part size`);
  if (hasBlobConcatenation(store)) return store.concatenateIfAbsent(key, parts);
  const size = parts.reduce((sum, part) => sum + part.size, 0);
  return store.putIfAbsent(key, { size, open: () => Readable.from(partBytes(store, key, parts)) });
}

async function* partBytes(store: BlobStore, key: string, parts: readonly BlobInfo[]): AsyncGenerator<Buffer> {
  for (const part of parts) {
    const stream = await store.getStream(part.key);
    if (!stream) throw new Error(`concatenation into ${key}: part ${part.key} is not stored`);
    for await (const chunk of stream) yield chunk as Buffer;
  }
}
