import { Lru, type CacheStats, type PackIndex } from '@gitfleet/git-format';
import type { BlobStore } from '@gitfleet/storage';
import { sidecarBlobKey } from './keys.js';

/** What a sidecar cache knows of the pack a sidecar belongs to: its key, and the estimate of its cost. */
export type SidecarPack = Pick<PackIndex, 'packChecksum' | 'objectCount'>;

/** Told when a sidecar cannot be used and the caller falls back to walking: nothing louder than a warning. */
export type SidecarWarning = (message: string) => void;

/**
 * How long a load that gave nothing stands for the sidecar: the store may have failed only for
 * now, but every request of a busy repository must not ask it again (and warn again) meanwhile.
 */
export const UNUSABLE_SIDECAR_RETRY_MS = 60_000;

interface Entry<T> {
  loading: Promise<T | undefined>;
  cost: number;
  /** Set once the load gave nothing: when to try again. */
  retryAt?: number;
}

/**
 * Loaded sidecars of packs (bitmaps, commit-graphs), shared by the repositories of a process: a
 * pack is immutable, so a loaded sidecar never goes stale. Bounded by an estimate of their bytes
 * made before loading, from the pack's object count; a sidecar estimated larger than the whole
 * budget is still kept, alone, rather than loaded again by every request. A load that gives
 * nothing (the sidecar is missing or unusable) is tried again after UNUSABLE_SIDECAR_RETRY_MS.
 */
export class SidecarCache<T> {
  private readonly lru: Lru<string, Entry<T>>;

  constructor(
    maxBytes: number,
    private readonly bytesPerObject: number,
    private readonly now: () => number = Date.now,
  ) {
    this.lru = new Lru(maxBytes, (entry) => entry.cost);
  }

  /**
   * The sidecar of `index`'s pack in repository `repositoryId`, loaded by `load` unless kept; only
   * the pack's checksum and object count are read, so a caller need not load its idx to ask.
   */
  get(repositoryId: string, index: SidecarPack, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const key = `${repositoryId}/${index.packChecksum}`;
    const cached = this.lru.get(key);
    if (cached && (cached.retryAt === undefined || this.now() < cached.retryAt)) return cached.loading;
    const loading = load();
    // At least 1: with no budget at all, nothing is kept.
    const entry: Entry<T> = { loading, cost: Math.max(1, Math.min(index.objectCount * this.bytesPerObject, this.lru.maxCost)) };
    void loading.then((value) => {
      if (value === undefined && this.lru.peek(key) === entry) {
        this.lru.set(key, { loading, cost: 1, retryAt: this.now() + UNUSABLE_SIDECAR_RETRY_MS });
      }
    });
    this.lru.set(key, entry);
    return loading;
  }

  /** Lookups answered from the cache and not, and the bytes it holds (read by monitoring). */
  stats(): CacheStats {
    return this.lru.stats();
  }
}

/** Reads and parses one pack's sidecar; undefined, after a warning, when it is missing or unusable. */
export type SidecarLoader<T> = (blobs: BlobStore, repositoryId: string, pack: string, warn: SidecarWarning) => Promise<T | undefined>;

/**
 * The SidecarLoader of the `extension` sidecar, read by `parse`: a sidecar never fails a read,
 * so a missing one, or one `parse` throws on, is a warning naming `what` it is and what reads do
 * `instead`.
 */
export function sidecarLoader<T>(extension: string, what: string, instead: string, parse: (bytes: Buffer) => T): SidecarLoader<T> {
  return async (blobs, repositoryId, pack, warn) => {
    const where = `repository ${repositoryId}, pack ${pack}`;
    try {
      const bytes = await blobs.get(sidecarBlobKey(repositoryId, pack, extension));
      if (!bytes) {
        warn(`${where}: no ${what} stored; ${instead}`);
        return undefined;
      }
      return parse(bytes);
    } catch (error) {
      warn(`${where}: ${what} unusable, ${instead}: ${(error as Error).message}`);
      return undefined;
    }
  };
}

/** A SidecarCache of one kind of sidecar, loaded from the blob store by `load`. */
export class LoadedSidecarCache<T> {
  private readonly cache: SidecarCache<T>;

  constructor(
    maxBytes: number,
    bytesPerObject: number,
    private readonly load: SidecarLoader<T>,
  ) {
    this.cache = new SidecarCache(maxBytes, bytesPerObject);
  }

  get(blobs: BlobStore, repositoryId: string, index: SidecarPack, warn: SidecarWarning): Promise<T | undefined> {
    return this.cache.get(repositoryId, index, () => this.load(blobs, repositoryId, index.packChecksum, warn));
  }

  /** Lookups answered from the cache and not, and the bytes it holds (read by monitoring). */
  stats(): CacheStats {
    return this.cache.stats();
  }
}
