import type { BlobStore, KVStore } from '@gitfleet/storage';
import type { BlockCache } from './block-cache.js';
import type { DeltaBaseCache } from './delta-base-cache.js';
import { PackObjectDB } from './object-db.js';
import type { ObjectDB } from './object-db.js';
import { InMemoryReadBudget } from './object-stream.js';
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
  /** Deltified objects rebuilt whole for streaming; when absent, a process-wide 256 MiB budget (sharedInMemoryReads). */
  inMemoryReads?: InMemoryReadBudget;
}

/** The budget of processes that configure none. */
export const sharedInMemoryReads = new InMemoryReadBudget(256 * 1024 * 1024);

export class Repository {
  readonly objects: ObjectDB;
  readonly refs: RefDB;
  /** Shared by every repository of the stores: see openObjectStream. */
  readonly inMemoryReads: InMemoryReadBudget;

  constructor(
    readonly info: RepositoryInfo,
    stores: Stores,
  ) {
    this.objects = new PackObjectDB(info.id, stores);
    this.inMemoryReads = stores.inMemoryReads ?? sharedInMemoryReads;
    this.refs = new KVRefDB(info.id, stores.kv);
  }
}
