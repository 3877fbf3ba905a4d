import type { BlobStore } from './blob-store.js';

/** What a direct write must hold: the blob's exact size and the SHA-256 of its bytes (64 hex digits). */
export interface DirectWriteContent {
  size: number;
  sha256: string;
}

/** One HTTP request a client makes to write a blob straight to the store. */
export interface DirectWrite {
  method: 'PUT';
  url: string;
  /** Headers the request must carry exactly as given: the store checks the body against them. */
  headers: Record<string, string>;
}

/** The store's verdict on a direct write the client says it finished. */
export type DirectWriteOutcome = 'stored' | 'missing' | 'mismatch';

/**
 * What a store that clients can write to directly offers besides the BlobStore interface: a
 * request (an S3 presigned PutObject) that lets anyone holding it write one blob of a given size
 * and SHA-256, and nothing else, until it expires. The store itself refuses a body of another
 * length or hash, so a key written this way only ever holds the bytes it was made for. Optional,
 * as DirectReadUrls: a store on the server's own disk has none, and callers take the bytes
 * themselves.
 */
export interface DirectWriteUrls {
  /**
   * The request that writes `key` with exactly `content`, valid for `expiresInSeconds` (the
   * upload must start by then); undefined when this store cannot make one.
   */
  directWriteUrl(key: string, content: DirectWriteContent, options: { expiresInSeconds: number }): Promise<DirectWrite | undefined>;
  /**
   * Checks a blob a client wrote through directWriteUrl and makes it as durable as the store's
   * own writes (a placement store copies it to its other replicas): 'stored' once it is,
   * 'missing' when nothing was written, 'mismatch' when the stored blob differs from `content`.
   * A blob whose bytes are wrong is deleted, so that a correct upload can take its place; one
   * that only differs in size from what the caller says stays (the caller is wrong about it).
   */
  completeDirectWrite(key: string, content: DirectWriteContent): Promise<DirectWriteOutcome>;
}

/** Whether `store` can hand out direct write URLs. */
export function hasDirectWriteUrls(store: BlobStore): store is BlobStore & DirectWriteUrls {
  const candidate = store as Partial<DirectWriteUrls>;
  return typeof candidate.directWriteUrl === 'function' && typeof candidate.completeDirectWrite === 'function';
}
