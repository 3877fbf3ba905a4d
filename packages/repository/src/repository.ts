import type { GitObject, ObjectId, ObjectType } from '@gitfleet/git-format';
import { PackObjectReader, type ObjectReader } from './object-reader.js';
import { RefJournal, type RefJournalOptions } from './journal/ref-journal.js';
import { InMemoryReadBudget } from './object-stream.js';
import { PackAccess, type PackStores } from './pack-access.js';
import { CommitReader } from './reachability/commits.js';
import { sharedRefListingCache, type RefListingCache } from './ref-listing-cache.js';
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
  /** How often the ref journal writes checkpoints (default every 100 transactions of a repository). */
  journal?: RefJournalOptions;
  /** Ref listings of the process's repositories; when absent, a process-wide 32 MiB cache (sharedRefListingCache). */
  refListings?: RefListingCache;
}

/** The budget of processes that configure none. */
export const sharedInMemoryReads = new InMemoryReadBudget(256 * 1024 * 1024);

export class Repository {
  /** Objects by id. */
  readonly objects: ObjectReader;
  /** The stored packs themselves: registry, indexes, raw entries (adding packs, pack reuse). */
  readonly packs: PackAccess;
  readonly refs: RefDB;
  /** Shared by every repository of the stores: see openObjectStream. */
  readonly inMemoryReads: InMemoryReadBudget;

  constructor(
    readonly info: RepositoryInfo,
    /** The process's stores (maintenance writes the registry and deletes blobs through them). */
    readonly stores: Stores,
  ) {
    this.packs = new PackAccess(info.id, stores);
    this.objects = new RecoveringObjectReader(new PackObjectReader(this.packs, stores.deltaBases), this.packs);
    this.inMemoryReads = stores.inMemoryReads ?? sharedInMemoryReads;
    this.refs = new KVRefDB(
      info.id,
      stores.kv,
      new RefJournal(info.id, stores.kv, stores.blobs, stores.journal),
      stores.refListings ?? sharedRefListingCache,
    );
  }

  /** Reads this repository's commits for a walk: the process-wide memo, then the commit-graph, then the packs. */
  commitReader(): CommitReader {
    return new CommitReader(this.objects, this.info.id, this.packs);
  }
}

/** Objects by id, each read retried once when a pack it used was collected after maintenance retired it (PackAccess.retryingRetired). */
class RecoveringObjectReader implements ObjectReader {
  constructor(
    private readonly reader: ObjectReader,
    private readonly packs: PackAccess,
  ) {}

  has(oid: ObjectId): Promise<boolean> {
    return this.packs.retryingRetired(() => this.reader.has(oid));
  }

  read(oid: ObjectId): Promise<GitObject | undefined> {
    return this.packs.retryingRetired(() => this.reader.read(oid));
  }

  header(oid: ObjectId): Promise<{ type: ObjectType; size: number } | undefined> {
    return this.packs.retryingRetired(() => this.reader.header(oid));
  }

  type(oid: ObjectId): Promise<ObjectType | undefined> {
    return this.packs.retryingRetired(() => this.reader.type(oid));
  }
}
