import type { BlobStore, KVStore } from '@gitfleet/storage';
import type { BlockCache } from './block-cache.js';
import type { ObjectDB } from './object-db.js';
import type { RefDB } from './ref-db.js';

export interface RepositoryInfo {
  id: string;
  owner: string;
  name: string;
  createdAt: string;
}

/** What every repository of a process shares: the stores and the cache. */
export interface Stores {
  blobs: BlobStore;
  kv: KVStore;
  cache: BlockCache;
}

export declare class Repository {
  constructor(info: RepositoryInfo, stores: Stores);
  readonly info: RepositoryInfo;
  readonly objects: ObjectDB;
  readonly refs: RefDB;
}
