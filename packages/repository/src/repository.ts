import { PackObjectDB } from './object-db.js';
import type { ObjectDB, PackStores } from './object-db.js';
import { InMemoryReadBudget } from './object-stream.js';
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
export interface Stores extends PackStores {
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
