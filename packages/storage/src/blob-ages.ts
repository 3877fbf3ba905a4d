import type { BlobStore } from './blob-store.js';

/**
 * What a store that records when each blob was written offers besides the BlobStore interface
 * (a file's modification time, an object's Last-Modified). Optional: callers that must know a
 * blob's age (placement cleanup, which must not delete a copy while a write that made another
 * may still be undone) treat a store without it as one whose blobs may be new.
 */
export interface BlobAges {
  /** When (ms since the epoch, by the store's clock) `key` was written; undefined when it is absent. */
  writtenAt(key: string): Promise<number | undefined>;
}

/** Whether `store` can tell when its blobs were written. */
export function hasBlobAges(store: BlobStore): store is BlobStore & BlobAges {
  return typeof (store as Partial<BlobAges>).writtenAt === 'function';
}
