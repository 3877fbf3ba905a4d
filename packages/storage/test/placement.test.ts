import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import {
  FsBlobStore,
  MemoryBlobStore,
  PlacementBlobStore,
  PlacementError,
  StorageFull,
  StoreUnavailable,
  isOutOfSpace,
  type BlobBody,
  type BlobInfo,
  type BlobStore,
  type ByteRange,
  type PlacementMember,
} from '@gitfleet/storage';
import { runBlobStoreConformance } from '@gitfleet/storage/conformance';

runBlobStoreConformance('PlacementBlobStore (3 FsBlobStores, R=2)', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'gitfleet-placement-'));
  const stores = await Promise.all(['a', 'b', 'c'].map(async (name) => ({ name, store: await FsBlobStore.open(join(directory, name)) })));
  return { store: new PlacementBlobStore({ stores, replicas: 2 }), cleanup: () => rm(directory, { recursive: true, force: true }) };
});

type Mode = 'up' | 'reject' | 'hang' | 'slow' | 'full' | 'unreachable';

/**
 * A store that can be switched to failing (rejecting every call with a fault, as full, or as out of
 * reach), hanging (never answering) or slow (answering late).
 */
class FaultyStore implements BlobStore {
  mode: Mode = 'up';
  /** Deletes never answer, whatever the mode. */
  hangDeletes = false;
  constructor(readonly inner: BlobStore) {}

  private gate<T>(operation: () => Promise<T>): Promise<T> {
    if (this.mode === 'reject') return Promise.reject(new Error('store is down'));
    if (this.mode === 'full') return Promise.reject(new StorageFull('no space left on device'));
    if (this.mode === 'unreachable') return Promise.reject(new StoreUnavailable('connection refused'));
    if (this.mode === 'hang') return new Promise<T>(() => {});
    if (this.mode === 'slow') return new Promise<T>((resolve) => setTimeout(resolve, SLOW_MS)).then(operation);
    return operation();
  }

  putIfAbsent(key: string, body: BlobBody) {
    return this.gate(() => this.inner.putIfAbsent(key, body));
  }
  get(key: string, range?: ByteRange) {
    return this.gate(() => this.inner.get(key, range));
  }
  getStream(key: string, range?: ByteRange) {
    return this.gate(() => this.inner.getStream(key, range));
  }
  head(key: string) {
    return this.gate(() => this.inner.head(key));
  }
  async *list(prefix: string): AsyncIterable<BlobInfo> {
    await this.gate(async () => undefined);
    yield* this.inner.list(prefix);
  }
  delete(key: string) {
    if (this.hangDeletes) return new Promise<void>(() => {});
    return this.gate(() => this.inner.delete(key));
  }
  close() {
    return this.inner.close();
  }
}

const NAMES = ['east', 'west', 'north', 'south'];
/** Three times the read timeout of `cluster()`, and within the 5 times a silent store keeps its chance. */
const SLOW_MS = 150;

function cluster(replicas: number, names = NAMES) {
  const faulty = names.map(() => new FaultyStore(new MemoryBlobStore()));
  const members: PlacementMember[] = names.map((name, i) => ({ name, store: faulty[i] }));
  const byName = (name: string) => faulty[names.indexOf(name)];
  const placement = new PlacementBlobStore({ stores: members, replicas, readTimeoutMs: 50, writeTimeoutMs: 200 });
  /** Names of the stores that hold `key` (asking them directly). */
  const holders = async (key: string) => {
    const found: string[] = [];
    for (const [i, store] of faulty.entries()) if (await store.inner.head(key)) found.push(names[i]);
    return found.sort();
  };
  return { placement, faulty, byName, holders, members };
}

const sorted = (names: string[]) => [...names].sort();

function streamBody(bytes: Buffer, onOpen?: () => void): BlobBody {
  return {
    size: bytes.length,
    open: () => {
      onOpen?.();
      return Readable.from([bytes.subarray(0, 7), bytes.subarray(7)]);
    },
  };
}

async function collect(stream: Readable | undefined): Promise<Buffer | undefined> {
  if (!stream) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('PlacementBlobStore placement', () => {
  it('writes each blob to exactly its R preferred stores, and spreads keys over every store', async () => {
    const { placement, holders } = cluster(2);
    const perStore = new Map<string, number>();
    for (let i = 0; i < 40; i++) {
      const key = `repos/r/packs/pack-${i}.pack`;
      assert.equal(await placement.putIfAbsent(key, randomBytes(100)), true);
      const preferred = placement.placement(key).slice(0, 2);
      assert.deepEqual(await holders(key), sorted(preferred), key);
      for (const name of preferred) perStore.set(name, (perStore.get(name) ?? 0) + 1);
    }
    assert.deepEqual([...perStore.keys()].sort(), [...NAMES].sort(), `every store gets keys: ${[...perStore]}`);
  });

  it('computes the same placement whatever order the stores are configured in', () => {
    const forward = cluster(2).placement;
    const backward = cluster(2, [...NAMES].reverse()).placement;
    for (let i = 0; i < 20; i++) assert.deepEqual(forward.placement(`k${i}`), backward.placement(`k${i}`));
  });

  it('moves only the keys whose preferred stores change when a store is added', () => {
    const three = cluster(2, NAMES.slice(0, 3)).placement;
    const four = cluster(2).placement;
    let moved = 0;
    for (let i = 0; i < 200; i++) {
      const before = three.placement(`k${i}`).slice(0, 2);
      const after = four.placement(`k${i}`).slice(0, 2);
      // Whatever moved, moved to the new store; the relative order of the old ones holds.
      assert.deepEqual(
        after.filter((name) => name !== 'south'),
        before.slice(0, after.filter((name) => name !== 'south').length),
      );
      if (after.includes('south')) moved += 1;
    }
    assert.ok(moved > 0 && moved < 200, `moved ${moved} of 200`);
  });

  it('refuses a configuration it cannot honour', () => {
    const store = new MemoryBlobStore();
    assert.throws(() => new PlacementBlobStore({ stores: [], replicas: 1 }), PlacementError);
    assert.throws(() => new PlacementBlobStore({ stores: [{ name: 'a', store }], replicas: 2 }), /replicas/);
    assert.throws(
      () =>
        new PlacementBlobStore({
          stores: [
            { name: 'a', store },
            { name: 'a', store },
          ],
          replicas: 1,
        }),
      /twice/,
    );
  });
});

describe('PlacementBlobStore with a store down', () => {
  for (const mode of ['reject', 'hang'] as const) {
    it(`puts R copies on the next stores when a preferred store ${mode === 'reject' ? 'fails' : 'hangs'}`, async () => {
      const { placement, byName, holders } = cluster(2);
      const key = 'repos/r/packs/pack-down.pack';
      const [first, second, third] = placement.placement(key);
      byName(first).mode = mode;
      const bytes = randomBytes(1000);
      assert.equal(await placement.putIfAbsent(key, streamBody(bytes)), true);
      assert.deepEqual(await holders(key), sorted([second, third]));
      assert.deepEqual(await placement.get(key), bytes);
      assert.deepEqual(await placement.head(key), { key, size: 1000 });
      assert.deepEqual(await collect(await placement.getStream(key, { start: 10, end: 20 })), bytes.subarray(10, 20));
    });

    it(`reads from another copy when the first store ${mode === 'reject' ? 'fails' : 'hangs'}`, async () => {
      const { placement, byName } = cluster(2);
      const key = 'repos/r/packs/pack-read.pack';
      const bytes = randomBytes(5000);
      await placement.putIfAbsent(key, bytes);
      byName(placement.placement(key)[0]).mode = mode;
      assert.deepEqual(await placement.get(key, { start: 100, end: 4000 }), bytes.subarray(100, 4000));
      assert.deepEqual(await collect(await placement.getStream(key)), bytes);
      assert.deepEqual(await placement.head(key), { key, size: 5000 });
    });
  }

  it('waits for a slow store that holds the only copy instead of failing the read', async () => {
    const { placement, byName } = cluster(1);
    const key = 'repos/r/packs/pack-slow.pack';
    const bytes = randomBytes(2000);
    await placement.putIfAbsent(key, bytes);
    byName(placement.placement(key)[0]).mode = 'slow';
    assert.deepEqual(await placement.get(key, { start: 5, end: 1500 }), bytes.subarray(5, 1500));
    assert.deepEqual(await placement.head(key), { key, size: 2000 });
  });

  it('cannot call a key absent while a store that may hold it does not answer', async () => {
    const { placement, faulty } = cluster(2);
    assert.equal(await placement.get('never/written'), undefined);
    faulty[2].mode = 'hang';
    await assert.rejects(placement.get('never/written'), StoreUnavailable);
    await assert.rejects(placement.head('never/written'), /did not/);
  });

  it('rejects and leaves no copy behind when fewer than R stores accept a blob; a retry then succeeds', async () => {
    const { placement, faulty, holders } = cluster(3);
    faulty[0].mode = 'reject';
    faulty[1].mode = 'hang';
    const key = 'repos/r/packs/pack-few.pack';
    await assert.rejects(placement.putIfAbsent(key, Buffer.from('pack')), /only 2 of 3 copies/);
    assert.deepEqual(await holders(key), []);
    faulty[0].mode = 'up';
    faulty[1].mode = 'up';
    assert.equal(await placement.putIfAbsent(key, Buffer.from('pack')), true);
    assert.equal((await holders(key)).length, 3);
  });

  it('says why a put failed: all stores full is StorageFull; full or out of reach, StoreUnavailable; a fault, PlacementError', async () => {
    const outcomes: Array<[Mode[], new (...args: never[]) => Error, string]> = [
      [['full', 'full', 'full', 'full'], StorageFull, 'every store full'],
      [['full', 'unreachable', 'hang', 'full'], StoreUnavailable, 'full, refused or silent stores'],
      [['full', 'reject', 'full', 'full'], PlacementError, 'a store failing with a fault'],
    ];
    for (const [modes, expected, what] of outcomes) {
      const { placement, faulty, holders } = cluster(2);
      modes.forEach((mode, i) => (faulty[i].mode = mode));
      const key = 'repos/r/packs/pack-nowhere.pack';
      await assert.rejects(placement.putIfAbsent(key, Buffer.from('pack')), (error: Error) => {
        assert.ok(error instanceof expected, `${what}: ${error.name}: ${error.message}`);
        assert.equal(isOutOfSpace(error), expected === StorageFull, `${what}: out of space only when every store is full`);
        assert.match(error.message, /no store accepted it \(/);
        for (const name of NAMES) assert.match(error.message, new RegExp(`[(;] ?${name}: `), `${what}: each store's failure is named`);
        return true;
      });
      assert.deepEqual(await holders(key), []);
    }
  });

  it('rejects even when undoing its copies hangs: a write runs for a bounded time, which cleanup counts on', async () => {
    const { placement, byName } = cluster(3);
    const key = 'repos/r/packs/pack-undo.pack';
    const [arbiter, ...others] = placement.placement(key);
    byName(arbiter).hangDeletes = true;
    for (const name of others) byName(name).mode = 'reject';
    await assert.rejects(placement.putIfAbsent(key, Buffer.from('pack')), /only 1 of 3 copies/);
  });

  it('fails a broken body at once instead of trying it on every store', async () => {
    const { placement, holders } = cluster(2);
    let opens = 0;
    const body = {
      size: 100,
      open: () => {
        opens += 1;
        return Readable.from(
          (async function* () {
            yield Buffer.alloc(10);
            throw new Error('spool file unreadable');
          })(),
        );
      },
    };
    await assert.rejects(placement.putIfAbsent('broken', body), /spool file unreadable/);
    assert.equal(opens, 1);
    assert.deepEqual(await holders('broken'), []);
  });

  it('answers false without writing when the arbiter already holds the blob', async () => {
    const { placement, holders, byName } = cluster(2);
    const key = 'dup';
    await byName(placement.placement(key)[0]).putIfAbsent(key, Buffer.from('old'));
    assert.equal(await placement.putIfAbsent(key, Buffer.from('new')), false);
    assert.deepEqual(await holders(key), [placement.placement(key)[0]]);
    assert.equal((await placement.get(key))?.toString(), 'old');
  });
});

describe('PlacementBlobStore list and delete', () => {
  it('lists every key of every store once, in key order', async () => {
    const { placement, faulty } = cluster(2);
    await faulty[0].inner.putIfAbsent('p/stray-on-one-store', Buffer.from('x'));
    for (const key of ['p/c', 'p/a', 'p/b', 'q/other']) await placement.putIfAbsent(key, Buffer.from(key));
    const listed: BlobInfo[] = [];
    for await (const info of placement.list('p/')) listed.push(info);
    assert.deepEqual(listed, [
      { key: 'p/a', size: 3 },
      { key: 'p/b', size: 3 },
      { key: 'p/c', size: 3 },
      { key: 'p/stray-on-one-store', size: 1 },
    ]);
  });

  it('rejects a listing when a store cannot list, naming it', async () => {
    const { placement, byName } = cluster(2);
    byName('west').mode = 'reject';
    await assert.rejects(async () => {
      for await (const info of placement.list('')) void info;
    }, /store west/);
  });

  it('deletes every copy', async () => {
    const { placement, holders } = cluster(3);
    await placement.putIfAbsent('gone', Buffer.from('x'));
    await placement.delete('gone');
    assert.deepEqual(await holders('gone'), []);
    assert.equal(await placement.get('gone'), undefined);
  });
});

describe('PlacementBlobStore repair', () => {
  async function filled(replicas: number, count: number) {
    const setup = cluster(replicas);
    const keys = Array.from({ length: count }, (_, i) => `repos/r/packs/pack-${i}.pack`);
    for (const key of keys) await setup.placement.putIfAbsent(key, randomBytes(200 + keys.indexOf(key)));
    return { ...setup, keys };
  }

  it('restores R copies on the preferred stores after a store lost everything', async () => {
    const { faulty, members, keys, holders } = await filled(2, 30);
    // The 'west' store is replaced by an empty one under the same name.
    const replaced = new FaultyStore(new MemoryBlobStore());
    members[1] = { name: 'west', store: replaced };
    faulty[1] = replaced;
    const placement = new PlacementBlobStore({ stores: members, replicas: 2 });
    const lost = keys.filter((key) => placement.placement(key).slice(0, 2).includes('west'));
    assert.ok(lost.length > 0);

    const seen: number[] = [];
    const report = await placement.repair({ onProgress: (progress) => seen.push(progress.keys) });
    assert.equal(report.ok, true);
    assert.equal(report.keys, 30);
    assert.equal(report.repaired, lost.length);
    assert.equal(report.copies, lost.length);
    assert.equal(report.healthy, 30 - lost.length);
    assert.equal(report.failed, 0);
    assert.equal(report.bytesCopied, await sizeOf(placement, lost));
    assert.deepEqual(
      seen,
      Array.from({ length: 30 }, (_, i) => i + 1),
    );
    for (const key of keys) assert.deepEqual(await holders(key), sorted(placement.placement(key).slice(0, 2)), key);

    const again = await placement.repair();
    assert.deepEqual({ healthy: again.healthy, copies: again.copies }, { healthy: 30, copies: 0 });
  });

  it('copies keys onto a store that joins, keeping the copies elsewhere', async () => {
    const { members, keys, holders } = await filled(2, 30);
    const centre = new MemoryBlobStore();
    const joined = new PlacementBlobStore({ stores: [...members, { name: 'centre', store: centre }], replicas: 2 });
    const moving = keys.filter((key) => joined.placement(key).slice(0, 2).includes('centre'));
    assert.ok(moving.length > 0);
    const report = await joined.repair();
    assert.equal(report.copies, moving.length);
    assert.equal(report.repaired, moving.length);
    for (const key of keys) assert.equal((await centre.head(key)) !== undefined, moving.includes(key), key);
    for (const key of moving) assert.equal((await holders(key)).length, 2, 'old copies stay');
  });

  it('places copies on the next stores when a store cannot be listed, and reports it', async () => {
    const { placement, byName, keys, holders } = await filled(2, 20);
    const down = byName('north');
    down.mode = 'reject';
    const report = await placement.repair();
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.unavailableStores.map((store) => store.name),
      ['north'],
    );
    assert.equal(report.failed, 0);
    for (const key of keys) {
      const expected = placement
        .placement(key)
        .filter((name) => name !== 'north')
        .slice(0, 2);
      for (const name of expected) assert.ok((await holders(key)).includes(name), `${key} on ${name}`);
    }
  });

  it('copies from another replica when one gives bad bytes, and refuses copies that differ in size', async () => {
    const { placement, byName, holders } = cluster(2);
    const [first, second, third] = placement.placement('k');
    const bytes = randomBytes(300);
    await byName(first).inner.putIfAbsent('k', bytes);
    await byName(second).inner.putIfAbsent('k', bytes);
    // 'k' must be copied back onto the emptied first store, and its only source truncates reads.
    await byName(first).inner.delete('k');
    const truncating = byName(second);
    const original = truncating.inner.getStream.bind(truncating.inner);
    truncating.inner.getStream = async (key, range) => (await original(key, range)) && Readable.from([bytes.subarray(0, 100)]);
    const report = await placement.repair({ prefix: 'k' });
    assert.equal(report.failed, 1, JSON.stringify(report.failures));
    assert.match(report.failures[0].error, /short|100 bytes|ended/);
    assert.deepEqual(await holders('k'), [second]);

    await byName(third).inner.putIfAbsent('k', Buffer.from('different length'));
    const conflict = await placement.repair({ prefix: 'k' });
    assert.match(conflict.failures[0].error, /differ in size/);
  });
});

async function sizeOf(store: BlobStore, keys: string[]): Promise<number> {
  let total = 0;
  for (const key of keys) total += (await store.head(key))!.size;
  return total;
}

describe('PlacementBlobStore write times', () => {
  it('tells when the newest copy was written, and nothing when a store cannot tell', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'gitfleet-placement-ages-'));
    try {
      const stores = await Promise.all(
        ['a', 'b', 'c'].map(async (name) => ({ name, store: await FsBlobStore.open(join(directory, name)) })),
      );
      const placement = new PlacementBlobStore({ stores, replicas: 2 });
      const before = Date.now() - 1000;
      await placement.putIfAbsent('aged/blob', Buffer.from('x'));
      const written = await placement.writtenAt('aged/blob');
      assert.ok(written !== undefined && written >= before && written <= Date.now() + 1000, String(written));
      assert.equal(await placement.writtenAt('aged/absent'), undefined);

      const withoutAges = new PlacementBlobStore({ stores: [...stores, { name: 'memory', store: new MemoryBlobStore() }], replicas: 2 });
      assert.equal(await withoutAges.writtenAt('aged/blob'), undefined, 'a store that cannot tell may hold a newer copy');
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
