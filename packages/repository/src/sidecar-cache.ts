import { Lru, type CacheStats, type PackIndex } from '@gitfleet/git-format';

/**
 * Loaded sidecars of packs (bitmaps, commit-graphs), shared by the repositories of a process: a
 * pack is immutable, so a loaded sidecar never goes stale. Bounded by an estimate of their bytes
 * made before loading, from the pack's object count; a sidecar estimated larger than the whole
 * budget is still kept, alone, rather than loaded again by every request. A load that gives
 * nothing (the sidecar is missing or unusable) is not kept: the store may have failed only for now.
 */
export class SidecarCache<T> {
  private readonly lru: Lru<string, { loading: Promise<T | undefined>; cost: number }>;

  constructor(
    maxBytes: number,
    private readonly bytesPerObject: number,
  ) {
    this.lru = new Lru(maxBytes, (entry) => entry.cost);
  }

  /** The sidecar of `index`'s pack in repository `repositoryId`, loaded by `load` unless kept. */
  get(repositoryId: string, index: PackIndex, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const key = `${repositoryId}/${index.packChecksum}`;
    const cached = this.lru.get(key);
    if (cached) return cached.loading;
    const loading = load();
    // At least 1: with no budget at all, nothing is kept.
    const entry = { loading, cost: Math.max(1, Math.min(index.objectCount * this.bytesPerObject, this.lru.maxCost)) };
    void loading.then((value) => {
      if (value === undefined && this.lru.peek(key) === entry) this.lru.delete(key);
    });
    this.lru.set(key, entry);
    return loading;
  }

  /** Lookups answered from the cache and not, and the bytes it holds (read by monitoring). */
  stats(): CacheStats {
    return this.lru.stats();
  }
}
