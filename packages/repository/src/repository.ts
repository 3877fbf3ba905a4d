import type { BlobStore, KVStore } from '@gitfleet/storage';
import type { BlockCache } from './block-cache.js';
import type { DeltaBaseCache } from './delta-base-cache.js';
import { PackObjectDB } from './object-db.js';
import type { ObjectDB } from './object-db.js';
import type { PackIndexCache } from './pack-index-cache.js';
import { KVRefDB } from './ref-db.js';
import type { RefDB } from './ref-db.js';

export interface RepositoryInfo {
  id: string;
  owner: string;
  name: string;
  createdAt: string;
  /** A private repository is invisible to those who may not read it. */
  private: boolean;
  description: string;
}

/**
 * What every repository of a process shares: the stores and the caches. Build it once at
 * start-up; all caches hold only immutable pack data, so sharing them is always safe.
 */
export interface Stores {
  blobs: BlobStore;
  kv: KVStore;
  cache: BlockCache;
  /** Parsed `.idx` files; when absent, a process-wide 256 MiB cache (sharedPackIndexCache). */
  indexes?: PackIndexCache;
  /** Resolved delta bases; when absent, a process-wide 64 MiB cache (sharedDeltaBaseCache). */
  deltaBases?: DeltaBaseCache;
}

export class Repository {
  readonly objects: ObjectDB;
  readonly refs: RefDB;

  constructor(
    readonly info: RepositoryInfo,
    stores: Stores,
  ) {
    this.objects = new PackObjectDB(info.id, stores);
    this.refs = new KVRefDB(info.id, stores.kv);
  }
}
