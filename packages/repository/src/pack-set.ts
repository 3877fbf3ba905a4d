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
  private refreshesQueued = 0;
  private pending: { ordinal: number; done: Promise<void> } | undefined;
  private completed = 0;
  private loaded: Promise<void> | undefined;

  constructor(
    private readonly kv: KVStore,
    private readonly scope: string,
  ) {}

  /** The packs known now, newest first; reads the registry on first use. */
  async list(): Promise<readonly PackInfo[]> {
    if (!this.loaded) {
      const loading = this.refreshAfter(this.refreshesQueued);
      this.loaded = loading;
      // A failed first read (KV unreachable) must not stay cached: the next call tries again.
      loading.catch(() => {
        if (this.loaded === loading) this.loaded = undefined;
      });
    }
    await this.loaded;
    return this.ordered;
  }

  /** Number of refreshes queued so far; pass it to refreshAfter() after a lookup missed. */
  get generation(): number {
    return this.refreshesQueued;
  }

  /**
   * Re-reads the registry, unless a re-read queued after `generation` was taken is already under
   * way: that one started after the caller's lookup began, so it sees every pack registered
   * before it (or one such re-read has completed). Concurrent misses thus share one KV scan.
   */
  refreshAfter(generation: number): Promise<void> {
    if (this.completed > generation) return Promise.resolve();
    if (this.pending && this.pending.ordinal > generation) return this.pending.done;
    const previous = this.pending?.done.catch(() => undefined) ?? Promise.resolve();
    const ordinal = ++this.refreshesQueued;
    const done = previous.then(async () => {
      await this.readRegistry();
      this.completed = Math.max(this.completed, ordinal);
    });
    const entry = { ordinal, done };
    this.pending = entry;
    const clear = () => {
      if (this.pending === entry) this.pending = undefined;
    };
    done.then(clear, clear);
    return done;
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
