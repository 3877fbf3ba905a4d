import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { MemoryBlobStore, type ByteRange } from '@gitfleet/storage';
import { BlobRangeUnavailable, BlockCache } from '../src/block-cache.js';

/** A MemoryBlobStore that records every ranged get, and can hold gets until released. */
class CountingStore extends MemoryBlobStore {
  readonly gets: Array<{ key: string; range?: ByteRange }> = [];
  failNextGets = 0;
  private held: Array<() => void> | undefined;

  override async get(key: string, range?: ByteRange): Promise<Buffer | undefined> {
    this.gets.push({ key, range });
    if (this.held) await new Promise<void>((resolve) => this.held?.push(resolve));
    if (this.failNextGets > 0) {
      this.failNextGets--;
      throw new Error(`injected failure reading ${key}`);
    }
    return super.get(key, range);
  }

  hold(): void {
    this.held = [];
  }

  release(): void {
    const waiting = this.held ?? [];
    this.held = undefined;
    for (const resolve of waiting) resolve();
  }
}

const BLOCK = 1024;

async function storeWith(key: string, bytes: Buffer): Promise<CountingStore> {
  const store = new CountingStore();
  await store.putIfAbsent(key, bytes);
  return store;
}

describe('BlockCache', () => {
  const bytes = randomBytes(10 * BLOCK + 300);

  it('reads a range inside one block with one aligned get, then from the cache', async () => {
    const store = await storeWith('pack', bytes);
    const cache = new BlockCache({ blockSize: BLOCK, maxBytes: 100 * BLOCK });
    assert.deepEqual(await cache.read(store, 'pack', 1100, 1200), bytes.subarray(1100, 1200));
    assert.deepEqual(store.gets, [{ key: 'pack', range: { start: BLOCK, end: 2 * BLOCK } }]);
    assert.deepEqual(await cache.read(store, 'pack', 1030, 2048), bytes.subarray(1030, 2048));
    assert.equal(store.gets.length, 1);
  });

  it('assembles a read spanning blocks, fetching consecutive missing blocks in one get', async () => {
    const store = await storeWith('pack', bytes);
    const cache = new BlockCache({ blockSize: BLOCK, maxBytes: 100 * BLOCK });
    await cache.read(store, 'pack', 2 * BLOCK, 2 * BLOCK + 10);
    store.gets.length = 0;
    assert.deepEqual(await cache.read(store, 'pack', 500, 5 * BLOCK + 7), bytes.subarray(500, 5 * BLOCK + 7));
    // Block 2 was cached: blocks 0-1 and 3-5 are two runs.
    assert.deepEqual(store.gets, [
      { key: 'pack', range: { start: 0, end: 2 * BLOCK } },
      { key: 'pack', range: { start: 3 * BLOCK, end: 6 * BLOCK } },
    ]);
    store.gets.length = 0;
    for (let block = 0; block <= 5; block++) {
      assert.deepEqual(
        await cache.read(store, 'pack', block * BLOCK, (block + 1) * BLOCK),
        bytes.subarray(block * BLOCK, (block + 1) * BLOCK),
      );
    }
    assert.equal(store.gets.length, 0, 'every block of both runs was cached on its own');
  });

  it('shares one load among concurrent readers of a block', async () => {
    const store = await storeWith('pack', bytes);
    const cache = new BlockCache({ blockSize: BLOCK, maxBytes: 100 * BLOCK });
    store.hold();
    const reads = [
      cache.read(store, 'pack', 0, 10),
      cache.read(store, 'pack', 100, 1000),
      cache.read(store, 'pack', 1000, 1500),
      cache.read(store, 'pack', 1500, 2000),
    ];
    await new Promise((resolve) => setImmediate(resolve));
    store.release();
    const results = await Promise.all(reads);
    assert.deepEqual(results, [bytes.subarray(0, 10), bytes.subarray(100, 1000), bytes.subarray(1000, 1500), bytes.subarray(1500, 2000)]);
    assert.deepEqual(store.gets, [
      { key: 'pack', range: { start: 0, end: BLOCK } },
      { key: 'pack', range: { start: BLOCK, end: 2 * BLOCK } },
    ]);
  });

  it('serves a blob it was seeded with as the gets would have, with no get, and keeps the blocks it had', async () => {
    const store = await storeWith('pack', bytes);
    const cache = new BlockCache({ blockSize: BLOCK, maxBytes: 100 * BLOCK });
    await cache.read(store, 'pack', 3 * BLOCK, 3 * BLOCK + 1);
    const cachedBlock = await cache.read(store, 'pack', 3 * BLOCK, 4 * BLOCK);
    store.gets.length = 0;
    cache.seed(store, 'pack', bytes);
    assert.equal((await cache.read(store, 'pack', 3 * BLOCK, 4 * BLOCK)).buffer, cachedBlock.buffer, 'a cached block is not replaced');
    assert.deepEqual(await cache.read(store, 'pack', 0, bytes.length), bytes);
    assert.deepEqual(await cache.read(store, 'pack', 9 * BLOCK + 5, bytes.length), bytes.subarray(9 * BLOCK + 5));
    await assert.rejects(cache.read(store, 'pack', bytes.length - 1, bytes.length + 1), BlobRangeUnavailable);
    assert.deepEqual(store.gets, [], 'the seeded short last block tells where the blob ends');

    const small = bytes.subarray(0, 300);
    const other = new CountingStore();
    cache.seed(other, 'small', small);
    assert.deepEqual(await cache.read(other, 'small', 0, 300), small);
    assert.equal((await cache.read(other, 'small', 0, 300)).buffer.byteLength, 300, 'a block cut from a larger buffer is copied out of it');
    assert.deepEqual(other.gets, []);
    await assert.rejects(cache.read(store, 'small', 0, 300), BlobRangeUnavailable, 'seeded for one store, not for another');
  });

  it('reads up to the end of the blob through its short last block', async () => {
    const store = await storeWith('pack', bytes);
    const cache = new BlockCache({ blockSize: BLOCK, maxBytes: 100 * BLOCK });
    assert.deepEqual(await cache.read(store, 'pack', 9 * BLOCK + 5, bytes.length), bytes.subarray(9 * BLOCK + 5));
    assert.deepEqual(await cache.read(store, 'pack', bytes.length - 1, bytes.length), bytes.subarray(bytes.length - 1));
    assert.deepEqual(await cache.read(store, 'pack', 0, bytes.length), bytes);
    assert.deepEqual(await cache.read(store, 'pack', 7, 7), Buffer.alloc(0));
  });

  it('refuses a range past the end of the blob, naming the key and range', async () => {
    const store = await storeWith('repo/pack-1.pack', bytes);
    const cache = new BlockCache({ blockSize: BLOCK, maxBytes: 100 * BLOCK });
    const message = (start: number, end: number, key = 'repo/pack-1\\.pack') => new RegExp(`${key}.*\\[${start}, ${end}\\)`);
    await assert.rejects(
      cache.read(store, 'repo/pack-1.pack', bytes.length - 10, bytes.length + 1),
      message(bytes.length - 10, bytes.length + 1),
    );
    await assert.rejects(
      cache.read(store, 'repo/pack-1.pack', bytes.length - 10, bytes.length + 1),
      (error) => error instanceof BlobRangeUnavailable && !error.blobAbsent,
    );
    await assert.rejects(cache.read(store, 'repo/pack-1.pack', bytes.length, bytes.length + 1), message(bytes.length, bytes.length + 1));
    await assert.rejects(cache.read(store, 'repo/pack-1.pack', 20 * BLOCK, 21 * BLOCK), message(20 * BLOCK, 21 * BLOCK));
    // A blob of exactly two blocks: the range ends one byte into a block that does not exist.
    const aligned = await storeWith('aligned', bytes.subarray(0, 2 * BLOCK));
    await assert.rejects(cache.read(aligned, 'aligned', BLOCK, 2 * BLOCK + 1), message(BLOCK, 2 * BLOCK + 1, 'aligned'));
    assert.deepEqual(await cache.read(aligned, 'aligned', BLOCK, 2 * BLOCK), bytes.subarray(BLOCK, 2 * BLOCK));
  });

  it('refuses an absent blob and an invalid range', async () => {
    const store = await storeWith('pack', bytes);
    const cache = new BlockCache({ blockSize: BLOCK, maxBytes: 100 * BLOCK });
    await assert.rejects(
      cache.read(store, 'missing', 0, 10),
      (error) => error instanceof BlobRangeUnavailable && error.blobAbsent && /missing: not found/.test(error.message),
    );
    await assert.rejects(cache.read(store, 'pack', 10, 5), RangeError);
    await assert.rejects(cache.read(store, 'pack', -1, 5), RangeError);
  });

  it('evicts the least recently used blocks beyond maxBytes', async () => {
    const store = await storeWith('pack', bytes);
    const cache = new BlockCache({ blockSize: BLOCK, maxBytes: 2 * BLOCK });
    const readBlock = (block: number) => cache.read(store, 'pack', block * BLOCK, block * BLOCK + 1);
    await readBlock(0);
    await readBlock(1);
    await readBlock(0); // block 0 is now the most recently used
    await readBlock(2); // evicts block 1
    store.gets.length = 0;
    await readBlock(0);
    await readBlock(2);
    assert.equal(store.gets.length, 0);
    await readBlock(1);
    assert.deepEqual(store.gets, [{ key: 'pack', range: { start: BLOCK, end: 2 * BLOCK } }]);
  });

  it('does not cache a failed load, and fails every reader that shared it', async () => {
    const store = await storeWith('pack', bytes);
    const cache = new BlockCache({ blockSize: BLOCK, maxBytes: 100 * BLOCK });
    store.failNextGets = 1;
    store.hold();
    const reads = [cache.read(store, 'pack', 0, 10), cache.read(store, 'pack', 10, 20)];
    await new Promise((resolve) => setImmediate(resolve));
    store.release();
    for (const read of reads) await assert.rejects(read, /injected failure reading pack/);
    assert.deepEqual(await cache.read(store, 'pack', 0, 10), bytes.subarray(0, 10));
    assert.equal(store.gets.length, 2);
  });

  it('keeps blobs of different stores and keys apart', async () => {
    const other = randomBytes(bytes.length);
    const first = await storeWith('pack', bytes);
    const second = await storeWith('pack', other);
    await second.putIfAbsent('pack-2', bytes.subarray(100));
    const cache = new BlockCache({ blockSize: BLOCK, maxBytes: 100 * BLOCK });
    assert.deepEqual(await cache.read(first, 'pack', 0, 100), bytes.subarray(0, 100));
    assert.deepEqual(await cache.read(second, 'pack', 0, 100), other.subarray(0, 100));
    assert.deepEqual(await cache.read(second, 'pack-2', 0, 100), bytes.subarray(100, 200));
  });

  it('returns the same bytes as the store for random ranges under eviction pressure', async () => {
    const big = randomBytes(50 * BLOCK + 123);
    const store = await storeWith('pack', big);
    const cache = new BlockCache({ blockSize: BLOCK, maxBytes: 5 * BLOCK });
    const ranges = Array.from({ length: 300 }, () => {
      const start = Math.floor(Math.random() * big.length);
      const end = start + Math.floor(Math.random() * Math.min(8 * BLOCK, big.length - start + 1));
      return [start, end] as const;
    });
    const results = await Promise.all(ranges.map(([start, end]) => cache.read(store, 'pack', start, end)));
    for (const [i, [start, end]] of ranges.entries()) {
      assert.ok(results[i].equals(big.subarray(start, end)), `range [${start}, ${end})`);
    }
  });

  it('uses 64 KiB blocks by default', async () => {
    const store = await storeWith('pack', randomBytes(200_000));
    const cache = new BlockCache({ maxBytes: 1 << 20 });
    await cache.read(store, 'pack', 70_000, 70_001);
    assert.deepEqual(store.gets, [{ key: 'pack', range: { start: 65_536, end: 131_072 } }]);
  });
});
