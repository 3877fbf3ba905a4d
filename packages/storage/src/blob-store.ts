import type { Readable } from 'node:stream';

/**
 * Immutable blobs addressed by key (packs, pack indexes). Keys are '/'-separated
 * paths of [A-Za-z0-9._-] segments. A blob, once written, never changes: that is what
 * lets every cache of its bytes stay valid forever.
 */
export interface BlobStore {
  /**
   * Writes `body` under `key` unless a blob already exists there.
   * Resolves only when the bytes are durable; a reader never sees a partial blob.
   * @returns true if this call wrote the blob, false if it already existed.
   */
  putIfAbsent(key: string, body: BlobBody): Promise<boolean>;
  /** Bytes of `key`, or of `[range.start, range.end)` of it; undefined if absent. */
  get(key: string, range?: ByteRange): Promise<Buffer | undefined>;
  /** A stream of `key` (or a range of it) for large sequential reads; undefined if absent. */
  getStream(key: string, range?: ByteRange): Promise<Readable | undefined>;
  head(key: string): Promise<BlobInfo | undefined>;
  /** Every blob whose key starts with `prefix`, in lexicographic key order. */
  list(prefix: string): AsyncIterable<BlobInfo>;
  /** Removes `key`; a no-op when it is absent. */
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}

/** Half-open byte range: start inclusive, end exclusive. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface BlobInfo {
  key: string;
  size: number;
}

/**
 * What to store: bytes in memory, or a re-openable stream of known size (a spooled pack
 * on local disk) so that large packs never sit whole in memory.
 */
export type BlobBody = Buffer | { size: number; open(): Readable };
