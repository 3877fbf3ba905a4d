import { Lru, type CacheStats, type PackIndex } from '@gitfleet/git-format';

/**
 * Parsed pack indexes shared by every repository of a process, bounded by the bytes they hold.
 * Keyed by pack checksum alone: a pack's name is the SHA-1 of its bytes and its `.idx` follows
 * from them, so the same checksum means the same index whichever repository or store holds it.
 */
export class PackIndexCache {
  private readonly lru: Lru<string, PackIndex>;
  private readonly loading = new Map<string, Promise<PackIndex>>();
  // Counted here, not by the LRU: a lookup peeks first and gets only after that missed, and each
  // lookup must count once.
  private hits = 0;
  private misses = 0;

  constructor(options: { maxBytes: number }) {
    // An index larger than the whole budget (a big repository, with a cluster worker's share of
    // the machine's budget) is still kept, alone: otherwise every object lookup in its pack
    // would fetch and parse it again. At least 1: with no budget at all, nothing is kept.
    this.lru = new Lru(options.maxBytes, (index) => Math.max(1, Math.min(index.byteSize, options.maxBytes)));
  }

  /** The index if it is cached right now, without waiting (the hot path of object lookup). */
  peek(checksum: string): PackIndex | undefined {
    const index = this.lru.get(checksum);
    if (index) this.hits++;
    return index;
  }

  /** The cached index, or the result of `load` (one load in flight per pack). */
  get(checksum: string, load: () => Promise<PackIndex>): Promise<PackIndex> {
    const cached = this.lru.get(checksum);
    if (cached) {
      this.hits++;
      return Promise.resolve(cached);
    }
    this.misses++;
    let pending = this.loading.get(checksum);
    if (!pending) {
      pending = load().then(
        (index) => {
          this.loading.delete(checksum);
          this.lru.set(checksum, index);
          return index;
        },
        (error: unknown) => {
          this.loading.delete(checksum);
          throw error;
        },
      );
      this.loading.set(checksum, pending);
    }
    return pending;
  }

  /** Lookups answered from the cache and not (a peek that missed counts once its get does), and the bytes held. */
  stats(): CacheStats {
    return { ...this.lru.stats(), hits: this.hits, misses: this.misses };
  }

  /** Caches an index parsed elsewhere (a pack this process just stored). */
  put(checksum: string, index: PackIndex): void {
    this.lru.set(checksum, index);
  }
}

/** Default for processes that do not size the cache themselves: 256 MiB of parsed indexes. */
export const sharedPackIndexCache = new PackIndexCache({ maxBytes: 256 * 1024 * 1024 });
