import type { Readable } from 'node:stream';

/**
 * Immutable blobs addressed by key (packs, pack indexes). Keys are '/'-separated
 * paths of [A-Za-z0-9._-] segments (no empty, '.' or '..' segment; at most 1024
 * characters); anything else is refused with InvalidKeyError. A blob, once written,
 * never changes: that is what lets every cache of its bytes stay valid forever.
 *
 * Ranges are clamped to the blob: bytes past its end are simply not returned, so a
 * range starting at or after the end gives an empty result (not an error). A range with
 * start > end, a negative or a non-integer bound is refused with a RangeError.
 */
export interface BlobStore {
  /**
   * Writes `body` under `key` unless a blob already exists there.
   * Resolves only when the bytes are durable; a reader never sees a partial blob.
   * A streamed body that yields more or fewer bytes than its declared size, or fails,
   * rejects the call and leaves nothing visible.
   * @returns true if this call wrote the blob, false if it already existed.
   */
  putIfAbsent(key: string, body: BlobBody): Promise<boolean>;
  /** Bytes of `key`, or of `[range.start, range.end)` of it; undefined if absent. */
  get(key: string, range?: ByteRange): Promise<Buffer | undefined>;
  /** A stream of `key` (or a range of it) for large sequential reads; undefined if absent. */
  getStream(key: string, range?: ByteRange): Promise<Readable | undefined>;
  head(key: string): Promise<BlobInfo | undefined>;
  /**
   * Every blob whose key starts with `prefix` (a plain string prefix, not only whole
   * segments), in lexicographic key order.
   */
  list(prefix: string): AsyncIterable<BlobInfo>;
  /** Removes `key`; a no-op when it is absent. */
  delete(key: string): Promise<void>;
  /** Releases the store's resources; calling it again is a no-op. */
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
 * on local disk) so that large packs never sit whole in memory. `path`, when given, names a
 * local file holding exactly those bytes: a store on the same machine may copy the file
 * (copy_file_range, reflink) instead of streaming it through open().
 */
export type BlobBody = Buffer | { size: number; open(): Readable; path?: string };
