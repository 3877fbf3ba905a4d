import { Lru, type CacheStats } from '@gitfleet/git-format';

/**
 * Results of costly work on immutable inputs (a diff of two trees, a rendered blob), by a key
 * naming those inputs and how the work was done: an entry never goes stale. Requests for a key
 * being computed share that computation. Bounded by the bytes `sizeOf` estimates, least
 * recently used first out; a result over a quarter of the bound, a failure (a busy pool) or an
 * undefined result (given up, perhaps only because the server was busy) is not kept.
 */
export class ResultCache<T> {
  /** An entry costs nothing while its work runs; its size counts once the result is known. */
  private readonly entries: Lru<string, { value: Promise<T>; bytes: number }>;

  constructor(
    readonly maxBytes: number,
    private readonly sizeOf: (value: T) => number,
  ) {
    this.entries = new Lru(maxBytes, (entry) => entry.bytes);
  }

  get bytes(): number {
    return this.entries.cost;
  }

  /** Lookups answered from the cache (or a computation in flight) and not, and the bytes held (read by monitoring). */
  stats(): CacheStats {
    return this.entries.stats();
  }

  get(key: string, compute: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit) return hit.value;
    const entry = { value: compute(), bytes: 0 };
    this.entries.set(key, entry);
    const ours = () => this.entries.peek(key) === entry;
    const drop = () => {
      if (ours()) this.entries.delete(key);
    };
    entry.value.then((value) => {
      if (!ours()) return;
      const bytes = value === undefined ? Infinity : this.sizeOf(value);
      if (bytes > this.maxBytes / 4) {
        drop();
        return;
      }
      entry.bytes = bytes;
      // Stored again to count its size, which evicts the least recently used past the bound.
      this.entries.set(key, entry);
    }, drop);
    return entry.value;
  }
}
