import { Lru, type CacheStats } from '@gitfleet/git-format';
import type { BlobStore } from '@gitfleet/storage';

/** Blocks of 64 KiB suit local disk: a few pack entries per read, little waste. */
export const DEFAULT_BLOCK_SIZE = 64 * 1024;
/** Consecutive missing blocks are fetched in one ranged get of at most this many bytes. */
const MAX_LOAD_BYTES = 8 * 1024 * 1024;

/** A range read through the cache that the store cannot give: the blob is absent, or ends before the range does. */
export class BlobRangeUnavailable extends Error {
  override name = 'BlobRangeUnavailable';

  constructor(
    readonly key: string,
    readonly blobAbsent: boolean,
    message: string,
  ) {
    super(message);
  }
}

export interface BlockCacheOptions {
  /** Bytes per aligned block; default DEFAULT_BLOCK_SIZE. */
  blockSize?: number;
  /** Upper bound of the bytes of cached blocks (blocks being read are not counted). */
  maxBytes: number;
}

/**
 * A byte-bounded LRU cache of aligned blocks of immutable blobs (pack bytes). Blobs never
 * change, so a cached block is valid forever. One in-flight load per block: concurrent
 * readers of a block share its load, and a read missing several consecutive blocks
 * fetches them in one ranged get.
 *
 * Returned buffers may share memory with the cache: callers must not modify them.
 */
export class BlockCache {
  readonly blockSize: number;
  readonly maxBytes: number;
  private readonly blocks: Lru<string, Buffer>;
  private readonly loading = new Map<string, Promise<Buffer>>();
  private readonly storeIds = new WeakMap<BlobStore, number>();
  private nextStoreId = 0;

  constructor(options: BlockCacheOptions) {
    this.blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
    this.maxBytes = options.maxBytes;
    if (!Number.isSafeInteger(this.blockSize) || this.blockSize <= 0) {
      throw new RangeError(`BlockCache: blockSize must be a positive integer, got ${this.blockSize}`);
    }
    if (!Number.isSafeInteger(this.maxBytes) || this.maxBytes < 0) {
      throw new RangeError(`BlockCache: maxBytes must be a non-negative integer, got ${this.maxBytes}`);
    }
    this.blocks = new Lru(this.maxBytes, (block) => block.length);
  }

  /**
   * Bytes [start, end) of blob `key` in `store`, through the cache. The range must lie
   * inside the blob (callers take it from an index): a blob that is absent or shorter
   * than `end` is BlobRangeUnavailable, naming the key and range.
   */
  async read(store: BlobStore, key: string, start: number, end: number): Promise<Buffer> {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
      throw new RangeError(`blob ${key}: invalid byte range [${start}, ${end})`);
    }
    if (start === end) return Buffer.alloc(0);
    const first = Math.floor(start / this.blockSize);
    const last = Math.floor((end - 1) / this.blockSize);
    const blocks = await Promise.all(this.blockLoads(store, key, first, last));
    const parts: Buffer[] = [];
    let length = 0;
    for (const [i, block] of blocks.entries()) {
      const blockStart = (first + i) * this.blockSize;
      const part = block.subarray(Math.max(0, start - blockStart), Math.min(block.length, end - blockStart));
      parts.push(part);
      length += part.length;
      // A block shorter than blockSize is the blob's last: nothing follows it.
      if (block.length < this.blockSize) break;
    }
    if (length !== end - start) {
      throw new BlobRangeUnavailable(key, false, `blob ${key}: range [${start}, ${end}) reaches past the blob's end at ${start + length}`);
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts, length);
  }

  /**
   * Caches the blocks of blob `key` of `store` from `content`, the whole blob as just stored:
   * the blocks a ranged get would give, without the get. Blocks cached or loading already stay.
   */
  seed(store: BlobStore, key: string, content: Buffer): void {
    const prefix = `${this.storeId(store)}:${key}:`;
    const count = Math.ceil(content.length / this.blockSize);
    for (let index = 0; index < count; index++) {
      const id = prefix + index;
      if (this.blocks.peek(id) !== undefined || this.loading.has(id)) continue;
      const slice = content.subarray(index * this.blockSize, (index + 1) * this.blockSize);
      this.blocks.set(id, ownMemory(slice));
    }
  }

  /** Lookups answered from the cache and not, and the bytes it holds (read by monitoring). */
  stats(): CacheStats {
    return this.blocks.stats();
  }

  /** Promises of blocks first..last, from the cache, from loads in flight, or new loads. */
  private blockLoads(store: BlobStore, key: string, first: number, last: number): Array<Promise<Buffer>> {
    const prefix = `${this.storeId(store)}:${key}:`;
    const loads: Array<Promise<Buffer>> = [];
    let missingFrom: number | undefined;
    const flushMissing = (upTo: number) => {
      if (missingFrom === undefined) return;
      loads.push(...this.loadRun(store, key, prefix, missingFrom, upTo));
      missingFrom = undefined;
    };
    for (let index = first; index <= last; index++) {
      const id = prefix + index;
      const cached = this.blocks.get(id);
      const inFlight = cached ? undefined : this.loading.get(id);
      if (!cached && !inFlight) {
        missingFrom ??= index;
        if ((index - missingFrom + 1) * this.blockSize >= MAX_LOAD_BYTES) flushMissing(index);
        continue;
      }
      flushMissing(index - 1);
      if (cached) {
        loads.push(Promise.resolve(cached));
      } else if (inFlight) {
        loads.push(inFlight);
      }
    }
    flushMissing(last);
    return loads;
  }

  /** Loads blocks from..to (inclusive) with one ranged get; one promise per block. */
  private loadRun(store: BlobStore, key: string, prefix: string, from: number, to: number): Array<Promise<Buffer>> {
    const start = from * this.blockSize;
    const end = (to + 1) * this.blockSize;
    const run = store.get(key, { start, end }).then((bytes) => {
      if (!bytes) throw new BlobRangeUnavailable(key, true, `blob ${key}: not found (reading [${start}, ${end}))`);
      return bytes;
    });
    const loads: Array<Promise<Buffer>> = [];
    for (let index = from; index <= to; index++) {
      const id = prefix + index;
      const offset = (index - from) * this.blockSize;
      const load = run.then(
        (bytes) => {
          const slice = bytes.subarray(Math.min(offset, bytes.length), Math.min(offset + this.blockSize, bytes.length));
          // A block cut out of a multi-block get is copied, so that caching it does not
          // keep the whole get's memory alive.
          const block = from === to ? slice : Buffer.from(slice);
          this.loading.delete(id);
          this.blocks.set(id, block);
          return block;
        },
        (error: unknown) => {
          this.loading.delete(id);
          throw error;
        },
      );
      this.loading.set(id, load);
      loads.push(load);
    }
    return loads;
  }

  private storeId(store: BlobStore): number {
    let id = this.storeIds.get(store);
    if (id === undefined) this.storeIds.set(store, (id = this.nextStoreId++));
    return id;
  }
}

/**
 * `bytes` in memory of its own: a block cut from a larger buffer (a blob of several blocks, or a
 * small one from Node's shared pool) would keep all of it alive while the cache counts the block.
 */
function ownMemory(bytes: Buffer): Buffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes;
  const copy = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(copy);
  return copy;
}
