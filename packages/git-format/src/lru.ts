/**
 * A least-recently-used map bounded by the total cost of its values: their bytes (parsed pack
 * indexes and resolved objects vary in size by orders of magnitude), or 1 each to bound their
 * number. The one LRU of the code base: every cache of immutable pack data is built on it.
 */
/** What a cache tells monitoring: lookups answered from it and not since it was made, and what it holds now. */
export interface CacheStats {
  hits: number;
  misses: number;
  /** The cost of what it holds: bytes for every cache bounded by bytes. */
  bytes: number;
  maxBytes: number;
  entries: number;
}

export class Lru<K, V> {
  // A Map iterates in insertion order; re-inserting on access keeps the oldest entry first.
  private readonly entries = new Map<K, { value: V; cost: number }>();
  private totalCost = 0;
  private hits = 0;
  private misses = 0;

  constructor(
    readonly maxCost: number,
    private readonly costOf: (value: V) => number,
  ) {
    if (!(maxCost >= 0)) throw new RangeError(`maxCost must be a non-negative number, got ${maxCost}`);
  }

  /** The total cost of the values held. */
  get cost(): number {
    return this.totalCost;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value, now the most recently used; counted as a hit or a miss. */
  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Hits and misses of get(), and what is held. */
  stats(): CacheStats {
    return { hits: this.hits, misses: this.misses, bytes: this.totalCost, maxBytes: this.maxCost, entries: this.entries.size };
  }

  /** The value, leaving the order of use as it is (not counted as a hit or a miss). */
  peek(key: K): V | undefined {
    return this.entries.get(key)?.value;
  }

  /**
   * Stores `value` as the most recently used (its cost taken anew, should it have changed),
   * unless it alone exceeds the bound, then evicts the least recently used.
   */
  set(key: K, value: V): void {
    const cost = this.costOf(value);
    this.delete(key);
    if (cost > this.maxCost) return;
    this.entries.set(key, { value, cost });
    this.totalCost += cost;
    for (const [oldestKey, oldest] of this.entries) {
      if (this.totalCost <= this.maxCost) break;
      this.entries.delete(oldestKey);
      this.totalCost -= oldest.cost;
    }
  }

  delete(key: K): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.delete(key);
    this.totalCost -= entry.cost;
    return true;
  }

  keys(): IterableIterator<K> {
    return this.entries.keys();
  }
}
