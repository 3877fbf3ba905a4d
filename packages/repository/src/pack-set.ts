import { Lru } from '@gitfleet/git-format';
import type { KVStore } from '@gitfleet/storage';
import { PACK_KEY_PREFIX, parsePackRecord, type PackRecord } from './keys.js';

/** One registered pack of a repository. */
export interface PackInfo extends PackRecord {
  checksum: string;
}

/** How long a view of the registry may be used before it is read again, unless configured. */
export const DEFAULT_REGISTRY_MAX_AGE_MS = 30_000;

export interface PackSetOptions {
  /**
   * A view of the registry older than this is read again before it is used. It bounds how long a
   * process may go on reading a retired pack: maintenance's grace period must exceed it plus the
   * longest request (see maintenance/index.ts).
   */
  maxAgeMs?: number;
  /** Milliseconds since the epoch; tests pass a clock of their own. */
  now?: () => number;
}

/**
 * A request that starts using a repository's shared view (sharedPackSet) takes it as it is only
 * if it was read within this; else the view is read again first. One registry scan per second at
 * most serves every request of the process, instead of one scan per request (a repository pushed
 * to a hundred times a second was scanned hundreds of times a second).
 */
export const SHARED_VIEW_FRESH_MS = 1000;
/** Repositories whose views a process keeps, per set of stores; the least recently used go first. */
const SHARED_VIEWS_PER_STORES = 1024;

const sharedViews = new WeakMap<object, Lru<string, PackSet>>();

/**
 * The process's view of the registry of the repository at `scope`, shared by every request to it
 * through the same `stores`, made fresh enough for a request starting now (SHARED_VIEW_FRESH_MS).
 * Requests through other stores objects (other processes, in tests) have views of their own.
 */
export function sharedPackSet(stores: object, kv: KVStore, scope: string, options: PackSetOptions = {}): PackSet {
  let views = sharedViews.get(stores);
  if (!views) {
    views = new Lru(SHARED_VIEWS_PER_STORES, () => 1);
    sharedViews.set(stores, views);
  }
  let view = views.get(scope);
  if (!view) {
    view = new PackSet(kv, scope, options);
    views.set(scope, view);
  }
  view.requireReadWithin(SHARED_VIEW_FRESH_MS);
  return view;
}

/**
 * The packs of one repository as registered in KV, held in memory and re-read on demand and
 * whenever the view is older than maxAgeMs. Newest first: recent objects are the ones fetches
 * ask for most.
 *
 * Records change: maintenance marks the packs it replaced as retired, and later deletes them.
 * A retired pack leaves the active list (lookups, planning, enumeration) at the next read of the
 * registry, yet stays known by checksum, so that whoever listed it before keeps reading it
 * during the grace period; a deleted record is forgotten.
 */
export class PackSet {
  /** Every pack of the last read of the registry, retired ones included, plus those added since. */
  private packs = new Map<string, PackInfo>();
  private ordered: PackInfo[] = [];
  /** Scans of the registry started so far; a scan's ordinal is the count when it started. */
  private scansStarted = 0;
  /** Highest ordinal of a completed scan. */
  private completed = 0;
  /** When the newest completed scan started: the view is at least that fresh. */
  private viewTakenAt = -Infinity;
  /** Packs added while a scan ran: that scan may not see them, yet they must stay. */
  private addedDuringScan = new Set<string>();
  /** The latest refresh asked for; `started` stays undefined until its scan begins. */
  private pending: { started: number | undefined; done: Promise<void> } | undefined;
  private loaded: Promise<void> | undefined;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(
    private readonly kv: KVStore,
    private readonly scope: string,
    options: PackSetOptions = {},
  ) {
    this.maxAgeMs = options.maxAgeMs ?? DEFAULT_REGISTRY_MAX_AGE_MS;
    this.now = options.now ?? Date.now;
  }

  /** The active (not retired) packs, newest first; reads the registry on first use and when the view is too old. */
  async list(): Promise<readonly PackInfo[]> {
    if (!this.loaded) {
      const loading = this.refreshAfter(this.scansStarted);
      this.loaded = loading;
      // A failed first read (KV unreachable) must not stay cached: the next call tries again.
      loading.catch(() => {
        if (this.loaded === loading) this.loaded = undefined;
      });
    }
    await this.loaded;
    if (this.isStale()) await (this.pending?.done ?? this.refreshAfter(this.scansStarted));
    return this.ordered;
  }

  /**
   * The active packs known now, without waiting; undefined until the registry has been read once
   * or when the view is too old. Object lookups call this first: an await per lookup is
   * measurable over a million objects.
   */
  listed(): readonly PackInfo[] | undefined {
    return this.completed > 0 && !this.isStale() ? this.ordered : undefined;
  }

  /** A pack known by this view, retired or not: who listed it before it retired may still read it. */
  known(checksum: string): PackInfo | undefined {
    return this.packs.get(checksum);
  }

  /** Take it before a lookup; pass it to refreshAfter() when the lookup missed. */
  get generation(): number {
    return this.scansStarted;
  }

  /**
   * Re-reads the registry, unless a scan that starts (or started) after `generation` was taken
   * is already under way or done: such a scan began after the caller's lookup did, so it sees
   * every pack registered before that. Concurrent misses thus share one KV scan.
   */
  refreshAfter(generation: number): Promise<void> {
    if (this.completed > generation) return Promise.resolve();
    const pending = this.pending;
    if (pending && (pending.started === undefined || pending.started > generation)) return pending.done;
    const entry: { started: number | undefined; done: Promise<void> } = { started: undefined, done: Promise.resolve() };
    const previous = pending?.done.catch(() => undefined) ?? Promise.resolve();
    entry.done = previous.then(async () => {
      const ordinal = ++this.scansStarted;
      entry.started = ordinal;
      const takenAt = this.now();
      this.addedDuringScan = new Set();
      await this.readRegistry();
      this.completed = Math.max(this.completed, ordinal);
      this.viewTakenAt = Math.max(this.viewTakenAt, takenAt);
    });
    this.pending = entry;
    const clear = () => {
      if (this.pending === entry) this.pending = undefined;
    };
    entry.done.then(clear, clear);
    return entry.done;
  }

  /** The retired packs of the view (read as list() reads it), still readable until the collector deletes them. */
  async retired(): Promise<PackInfo[]> {
    await this.list();
    return [...this.packs.values()].filter((pack) => pack.retiredAt !== undefined);
  }

  /**
   * Adds a pack this process has just registered. The record it wrote is the newest there is: it
   * replaces whatever the view knew under that checksum (a retired record the collector has
   * deleted since, before the same pack was pushed again).
   */
  add(pack: PackInfo): void {
    this.packs.set(pack.checksum, pack);
    this.addedDuringScan.add(pack.checksum);
    this.reorder();
  }

  /** A view read longer than `ms` ago is read again before its next use; a younger one stays as it is. */
  requireReadWithin(ms: number): void {
    if (this.now() - this.viewTakenAt > ms) this.viewTakenAt = -Infinity;
  }

  private isStale(): boolean {
    return this.now() - this.viewTakenAt > this.maxAgeMs;
  }

  private async readRegistry(): Promise<void> {
    const entries = await this.kv.scan(this.scope, PACK_KEY_PREFIX);
    const packs = new Map<string, PackInfo>();
    for (const { key, value } of entries) {
      const checksum = key.slice(PACK_KEY_PREFIX.length);
      packs.set(checksum, { checksum, ...parsePackRecord(value, checksum, this.scope) });
    }
    for (const checksum of this.addedDuringScan) {
      const added = this.packs.get(checksum);
      // A record the scan read under the same checksum with another creation time is an earlier
      // registration of the pack (deleted since, or the add would have failed): the added one wins.
      const scanned = packs.get(checksum);
      if (added && scanned?.createdAt !== added.createdAt) packs.set(checksum, added);
    }
    this.packs = packs;
    this.reorder();
  }

  private reorder(): void {
    this.ordered = [...this.packs.values()]
      .filter((pack) => pack.retiredAt === undefined)
      .sort((a, b) => (a.createdAt === b.createdAt ? (a.checksum < b.checksum ? -1 : 1) : a.createdAt < b.createdAt ? 1 : -1));
  }
}
