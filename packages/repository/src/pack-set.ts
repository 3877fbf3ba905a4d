import type { KVStore } from '@gitfleet/storage';
import { PACK_KEY_PREFIX, type PackRecord } from './keys.js';

/** One registered pack of a repository. */
export interface PackInfo extends PackRecord {
  checksum: string;
}

/**
 * The packs of one repository as registered in KV, held in memory and re-read on demand.
 * Newest first: recent objects are the ones fetches ask for most.
 *
 * Packs are only ever added here. Removing a pack (a future collector after repacking) must keep
 * it readable for a grace period, during which readers that still list it keep working.
 */
export class PackSet {
  private readonly packs = new Map<string, PackInfo>();
  private ordered: PackInfo[] = [];
  /** Scans of the registry started so far; a scan's ordinal is the count when it started. */
  private scansStarted = 0;
  /** Highest ordinal of a completed scan. */
  private completed = 0;
  /** The latest refresh asked for; `started` stays undefined until its scan begins. */
  private pending: { started: number | undefined; done: Promise<void> } | undefined;
  private loaded: Promise<void> | undefined;

  constructor(
    private readonly kv: KVStore,
    private readonly scope: string,
  ) {}

  /** The packs known now, newest first; reads the registry on first use. */
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
    return this.ordered;
  }

  /**
   * The packs known now, without waiting; undefined until the registry has been read once.
   * Object lookups call this first: an await per lookup is measurable over a million objects.
   */
  listed(): readonly PackInfo[] | undefined {
    return this.completed > 0 ? this.ordered : undefined;
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
      await this.readRegistry();
      this.completed = Math.max(this.completed, ordinal);
    });
    this.pending = entry;
    const clear = () => {
      if (this.pending === entry) this.pending = undefined;
    };
    entry.done.then(clear, clear);
    return entry.done;
  }

  /** Adds a pack this process has just registered. */
  add(pack: PackInfo): void {
    if (this.packs.has(pack.checksum)) return;
    this.packs.set(pack.checksum, pack);
    this.reorder();
  }

  private async readRegistry(): Promise<void> {
    const entries = await this.kv.scan(this.scope, PACK_KEY_PREFIX);
    let changed = false;
    for (const { key, value } of entries) {
      const checksum = key.slice(PACK_KEY_PREFIX.length);
      if (this.packs.has(checksum)) continue;
      this.packs.set(checksum, { checksum, ...parsePackRecord(value, checksum, this.scope) });
      changed = true;
    }
    if (changed) this.reorder();
  }

  private reorder(): void {
    this.ordered = [...this.packs.values()].sort((a, b) =>
      a.createdAt === b.createdAt ? (a.checksum < b.checksum ? -1 : 1) : a.createdAt < b.createdAt ? 1 : -1,
    );
  }
}

function parsePackRecord(value: string, checksum: string, scope: string): PackRecord {
  let record: unknown;
  try {
    record = JSON.parse(value);
  } catch {
    throw new Error(`pack registry of ${scope}: entry for pack ${checksum} is not JSON: ${value.slice(0, 100)}`);
  }
  const { size, objects, createdAt } = (record ?? {}) as Partial<PackRecord>;
  if (!Number.isSafeInteger(size) || !Number.isSafeInteger(objects) || typeof createdAt !== 'string') {
    throw new Error(`pack registry of ${scope}: malformed entry for pack ${checksum}: ${value.slice(0, 200)}`);
  }
  return { size: size!, objects: objects!, createdAt };
}
