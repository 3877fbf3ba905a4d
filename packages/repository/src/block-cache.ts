import type { BlobStore } from '@gitfleet/storage';

/**
 * A byte-bounded LRU cache of aligned blocks of immutable blobs (pack bytes). Blobs never
 * change, so a cached block is valid forever. One in-flight load per block.
 */
export declare class BlockCache {
  constructor(options: { blockSize: number; maxBytes: number });
  /** Bytes [start, end) of blob `key` in `store`, through the cache. */
  read(store: BlobStore, key: string, start: number, end: number): Promise<Buffer>;
}
