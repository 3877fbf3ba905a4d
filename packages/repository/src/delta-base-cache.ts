import { Lru, type CacheStats, type GitObject } from '@gitfleet/git-format';

/**
 * Resolved objects that served as delta bases, keyed by (pack checksum, entry offset), shared by
 * every repository of a process. Deltas in a pack chain to the same few bases (the newest version
 * of a file), so keeping them resolved turns reading N versions from O(N·depth) inflates and
 * delta applications into O(N). Pack entries never change, so an entry is valid forever.
 */
export class DeltaBaseCache {
  private readonly lru: Lru<string, GitObject>;

  constructor(options: { maxBytes: number }) {
    this.lru = new Lru(options.maxBytes, (object) => object.data.length);
  }

  get(pack: string, offset: number): GitObject | undefined {
    return this.lru.get(`${pack}:${offset}`);
  }

  set(pack: string, offset: number, object: GitObject): void {
    this.lru.set(`${pack}:${offset}`, object);
  }

  /** Lookups answered from the cache and not, and the bytes it holds (read by monitoring). */
  stats(): CacheStats {
    return this.lru.stats();
  }
}

/** Default for processes that do not size the cache themselves (git's delta_base_cache_limit is 96 MiB). */
export const sharedDeltaBaseCache = new DeltaBaseCache({ maxBytes: 64 * 1024 * 1024 });
