import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  FaultInjector,
  FsBlobStore,
  InterceptedBlobStore,
  MemoryBlobStore,
  PlacementBlobStore,
  S3BlobStore,
  type PlacementMember,
} from '@gitfleet/storage';
import { testS3Connection, uniqueName } from '@gitfleet/test-support/stores';

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
/** A clock a day ahead: every copy written so far is older than the default minimum age. */
const dayLater = () => Date.now() + DAY;
const directories: string[] = [];
after(() => Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true }))));

/** FsBlobStores in a temp directory, one per name, each under `<directory>/<name>`. */
async function fsStores(names: readonly string[]) {
  const directory = await mkdtemp(join(tmpdir(), 'gitfleet-cleanup-'));
  directories.push(directory);
  const members: PlacementMember[] = [];
  for (const name of names) members.push({ name, store: await FsBlobStore.open(join(directory, name)) });
  const memberNamed = (name: string) => members.find((member) => member.name === name)!;
  /** Names of the stores that hold `key`, asking each directly. */
  const holders = async (key: string) => {
    const found: string[] = [];
    for (const { name, store } of members) if (await store.head(key)) found.push(name);
    return found.sort();
  };
  /** Sets every stored file's modification time `ms` into the past: the copies were written that long ago. */
  const age = async (ms: number) => {
    const when = new Date(Date.now() - ms);
    for (const entry of await readdir(directory, { recursive: true, withFileTypes: true }))
      if (entry.isFile()) await utimes(join(entry.parentPath, entry.name), when, when);
  };
  return { directory, members, memberNamed, holders, age };
}

/** Keys under several prefixes: cleanup treats packs, journal entries and LFS objects alike. */
function someKeys(count: number): string[] {
  const prefixes = ['repos/r1/packs/pack-', 'journal/r1/', 'lfs/objects/'];
  return Array.from({ length: count }, (_, i) => `${prefixes[i % prefixes.length]}${String(i).padStart(4, '0')}`);
}

async function fill(placement: PlacementBlobStore, keys: readonly string[]): Promise<Map<string, Buffer>> {
  const contents = new Map<string, Buffer>();
  for (const [i, key] of keys.entries()) {
    const bytes = randomBytes(100 + i);
    contents.set(key, bytes);
    assert.equal(await placement.putIfAbsent(key, bytes), true);
  }
  return contents;
}

const preferred = (placement: PlacementBlobStore, key: string) => placement.placement(key).slice(0, placement.replicas).sort();

describe('PlacementBlobStore cleanup', () => {
  it('removes the copies a new store made surplus, only once the preferred copies are older than minAgeMs', async () => {
    const { members, holders, age } = await fsStores(['a', 'b', 'c', 'd']);
    const keys = someKeys(45);
    const contents = await fill(new PlacementBlobStore({ stores: members.slice(0, 3), replicas: 2 }), keys);
    const joined = new PlacementBlobStore({ stores: members, replicas: 2 });
    const moved = keys.filter((key) => preferred(joined, key).includes('d'));
    assert.ok(moved.length > 0 && moved.length < keys.length);
    assert.equal((await joined.repair()).copies, moved.length);

    const young = await joined.cleanup();
    assert.deepEqual(
      { extraCopies: young.extraCopies, removed: young.removed, tooYoung: young.keptBecause.tooYoung, ok: young.ok },
      { extraCopies: moved.length, removed: 0, tooYoung: moved.length, ok: true },
      'the copies repair just made may belong to a write still in flight',
    );
    for (const key of moved) assert.equal((await holders(key)).length, 3, key);

    await age(DAY);
    const report = await joined.cleanup();
    assert.equal(report.keys, keys.length);
    assert.equal(report.removed, moved.length);
    assert.equal(report.kept, 0);
    assert.equal(
      report.bytesFreed,
      moved.reduce((sum, key) => sum + contents.get(key)!.length, 0),
    );
    assert.equal(report.ok, true);
    for (const key of keys) {
      assert.deepEqual(await holders(key), preferred(joined, key), key);
      assert.deepEqual(await joined.get(key), contents.get(key), key);
    }
    const again = await joined.cleanup();
    assert.deepEqual({ extraCopies: again.extraCopies, removed: again.removed }, { extraCopies: 0, removed: 0 });
  });

  it('removes one copy of each key when R is lowered', async () => {
    const { members, holders } = await fsStores(['a', 'b', 'c']);
    const keys = someKeys(12);
    await fill(new PlacementBlobStore({ stores: members, replicas: 3 }), keys);
    const lowered = new PlacementBlobStore({ stores: members, replicas: 2 });
    const report = await lowered.cleanup({ now: dayLater });
    assert.deepEqual({ extraCopies: report.extraCopies, removed: report.removed }, { extraCopies: keys.length, removed: keys.length });
    for (const key of keys) assert.deepEqual(await holders(key), preferred(lowered, key), key);
  });

  it('counts in a dry run what it would remove, and removes nothing', async () => {
    const { members, holders } = await fsStores(['a', 'b', 'c']);
    const keys = someKeys(12);
    await fill(new PlacementBlobStore({ stores: members, replicas: 3 }), keys);
    const lowered = new PlacementBlobStore({ stores: members, replicas: 2 });
    const dry = await lowered.cleanup({ now: dayLater, dryRun: true });
    assert.deepEqual({ removed: dry.removed, dryRun: dry.dryRun }, { removed: keys.length, dryRun: true });
    assert.ok(dry.bytesFreed > 0);
    for (const key of keys) assert.equal((await holders(key)).length, 3, key);
    const real = await lowered.cleanup({ now: dayLater });
    assert.deepEqual({ removed: real.removed, bytesFreed: real.bytesFreed }, { removed: dry.removed, bytesFreed: dry.bytesFreed });
  });

  it('deletes nothing while a preferred store is down, keeps what a write made in its place, and cleans once repair ran', async () => {
    const { members, holders } = await fsStores(['a', 'b', 'c', 'd']);
    const withDown = (injector: FaultInjector) =>
      new PlacementBlobStore({
        stores: [...members.slice(0, 3), { name: 'd', store: new InterceptedBlobStore(members[3].store, injector) }],
        replicas: 2,
        suspectMs: 0,
      });
    const injector = new FaultInjector({ seed: 7, rate: 1, kinds: ['error'] });
    const placement = withDown(injector);
    const keys = someKeys(30);
    await fill(placement, keys);
    const displaced = keys.filter((key) => preferred(placement, key).includes('d'));
    assert.ok(displaced.length > 0);
    for (const key of displaced) assert.equal((await holders(key)).length, 2, 'the write fell back to another store');

    // Failing at once, or answering too late (a request that acts but whose answer is lost).
    const silent = withDown(new FaultInjector({ seed: 7, rate: 1, kinds: ['timeout'], delayMs: 1 }));
    for (const whileDown of [await placement.cleanup({ now: dayLater }), await silent.cleanup({ now: dayLater })]) {
      assert.equal(whileDown.removed, 0);
      assert.equal(whileDown.keptBecause.preferredUnreachable, displaced.length);
      assert.equal(whileDown.ok, false, 'a store that cannot be listed or asked is reported');
      for (const key of keys) assert.equal((await holders(key)).length, 2, key);
    }

    injector.enabled = false;
    const missing = await placement.cleanup({ now: dayLater });
    assert.deepEqual(
      { removed: missing.removed, preferredMissing: missing.keptBecause.preferredMissing },
      {
        removed: 0,
        preferredMissing: displaced.length,
      },
    );

    assert.equal((await placement.repair()).copies, displaced.length);
    const cleaned = await placement.cleanup({ now: dayLater });
    assert.equal(cleaned.removed, displaced.length);
    for (const key of keys) assert.deepEqual(await holders(key), preferred(placement, key), key);
  });

  it('keeps a copy whose bytes differ from the preferred copies, and every copy when a preferred one is damaged', async () => {
    const { directory, members, memberNamed, holders } = await fsStores(['a', 'b', 'c']);
    const keys = someKeys(6);
    await fill(new PlacementBlobStore({ stores: members, replicas: 3 }), keys);
    const lowered = new PlacementBlobStore({ stores: members, replicas: 2 });
    const [odd, damaged] = keys;
    const overwrite = async (store: string, key: string) => {
      const size = (await memberNamed(store).store.head(key))!.size;
      await writeFile(join(directory, store, key), randomBytes(size));
    };
    await overwrite(lowered.placement(odd)[2], odd);
    await overwrite(lowered.placement(damaged)[0], damaged);

    const report = await lowered.cleanup({ now: dayLater });
    assert.equal(report.removed, keys.length - 2);
    assert.equal(report.keptBecause.copiesDiffer, 2);
    assert.deepEqual(report.failures.map((failure) => failure.key).sort(), [odd, damaged].sort());
    assert.equal(report.ok, false);
    for (const key of [odd, damaged]) assert.equal((await holders(key)).length, 3, key);
  });

  it('keeps copies when a preferred store cannot tell the age of its blobs', async () => {
    const stores: PlacementMember[] = ['a', 'b', 'c'].map((name) => ({ name, store: new MemoryBlobStore() }));
    const keys = someKeys(6);
    await fill(new PlacementBlobStore({ stores, replicas: 3 }), keys);
    const report = await new PlacementBlobStore({ stores, replicas: 2 }).cleanup({ now: dayLater });
    assert.deepEqual({ removed: report.removed, ageUnknown: report.keptBecause.ageUnknown }, { removed: 0, ageUnknown: keys.length });
  });

  it('refuses a minimum age shorter than a write may run, unless told it is unsafe', async () => {
    const { members, holders } = await fsStores(['a', 'b', 'c']);
    const keys = someKeys(3);
    await fill(new PlacementBlobStore({ stores: members, replicas: 3 }), keys);
    const lowered = new PlacementBlobStore({ stores: members, replicas: 2, writeTimeoutMs: 60_000 });
    // Up to 2 × 3 writes (arbiter, replicas, undo) of a minute each, and five minutes of clock skew.
    assert.equal(lowered.cleanupAgeFloorMs, 2 * 3 * 60_000 + 5 * 60_000);
    for (const minAgeMs of [0, lowered.cleanupAgeFloorMs - 1])
      await assert.rejects(lowered.cleanup({ minAgeMs }), /below 660000 ms, the longest a write to 3 stores/);
    for (const key of keys) assert.equal((await holders(key)).length, 3, key);

    const justOldEnough = await lowered.cleanup({ minAgeMs: lowered.cleanupAgeFloorMs, now: () => Date.now() + lowered.cleanupAgeFloorMs });
    assert.equal(justOldEnough.removed, keys.length);
    await fill(new PlacementBlobStore({ stores: members, replicas: 3 }), ['lfs/objects/young']);
    const unsafe = await lowered.cleanup({ minAgeMs: 0, unsafeMinAge: true, now: () => Date.now() + 10 * 60_000 });
    assert.equal(unsafe.removed, 1, 'a copy ten minutes old goes when the floor is waived');
  });

  it('keeps a copy deleted and written again while it was checked', async () => {
    const { members, memberNamed, holders, age } = await fsStores(['a', 'b', 'c']);
    const keys = someKeys(12);
    const contents = await fill(new PlacementBlobStore({ stores: members, replicas: 3 }), keys);
    await age(DAY);
    const lowered = new PlacementBlobStore({ stores: members, replicas: 2 });
    const rewritten = keys.filter((key) => lowered.placement(key)[2] === 'c');
    assert.ok(rewritten.length > 0 && rewritten.length < keys.length);
    // Store c's copy is deleted and written anew right after cleanup read it to compare its bytes.
    const c = memberNamed('c').store;
    const read = c.getStream.bind(c);
    c.getStream = async (key, range) => {
      const stream = await read(key, range);
      await c.delete(key);
      await c.putIfAbsent(key, contents.get(key)!);
      return stream;
    };
    const report = await lowered.cleanup();
    assert.deepEqual(
      { removed: report.removed, changedMeanwhile: report.keptBecause.changedMeanwhile },
      { removed: keys.length - rewritten.length, changedMeanwhile: rewritten.length },
    );
    for (const key of keys) assert.equal((await holders(key)).length, rewritten.includes(key) ? 3 : 2, key);
  });

  it('stops at the first deletion its caller refuses, and deletes nothing more', async () => {
    const { members, holders } = await fsStores(['a', 'b', 'c']);
    const keys = someKeys(6);
    await fill(new PlacementBlobStore({ stores: members, replicas: 3 }), keys);
    const lowered = new PlacementBlobStore({ stores: members, replicas: 2 });
    const refusal = new Error('lease lost');
    await assert.rejects(
      lowered.cleanup({
        now: dayLater,
        concurrency: 1,
        beforeDelete: () => {
          throw refusal;
        },
      }),
      refusal,
    );
    for (const key of keys) assert.equal((await holders(key)).length, 3, key);
  });
});

describe('PlacementBlobStore repair, dry run', () => {
  it('counts the copies it would make, and makes none', async () => {
    const { members, memberNamed } = await fsStores(['a', 'b', 'c', 'd']);
    const keys = someKeys(20);
    await fill(new PlacementBlobStore({ stores: members.slice(0, 3), replicas: 2 }), keys);
    const joined = new PlacementBlobStore({ stores: members, replicas: 2 });
    const moved = keys.filter((key) => preferred(joined, key).includes('d'));
    const dry = await joined.repair({ dryRun: true });
    assert.deepEqual({ copies: dry.copies, repaired: dry.repaired }, { copies: moved.length, repaired: moved.length });
    for (const key of moved) assert.equal(await memberNamed('d').store.head(key), undefined, key);
    assert.equal((await joined.repair()).copies, moved.length);
  });
});

const s3 = testS3Connection();

describe('PlacementBlobStore cleanup over S3 prefixes', { skip: s3 === undefined ? 'GITFLEET_SKIP_REMOTE_STORES=1' : false }, () => {
  it("judges a copy's age by the store's Last-Modified", async () => {
    if (s3 instanceof Error) throw s3;
    const members: PlacementMember[] = ['a', 'b', 'c'].map((name) => ({
      name,
      store: new S3BlobStore({
        ...s3!,
        prefix: `${uniqueName(`cleanup-${name}`)}/`,
      }),
    }));
    const keys = someKeys(6);
    try {
      await fill(new PlacementBlobStore({ stores: members, replicas: 3 }), keys);
      const lowered = new PlacementBlobStore({ stores: members, replicas: 2 });
      const fresh = await lowered.cleanup();
      assert.deepEqual({ removed: fresh.removed, tooYoung: fresh.keptBecause.tooYoung }, { removed: 0, tooYoung: keys.length });
      const later = await lowered.cleanup({ now: dayLater });
      assert.deepEqual({ removed: later.removed, kept: later.kept, ok: later.ok }, { removed: keys.length, kept: 0, ok: true });
      for (const key of keys) {
        const holders = [];
        for (const { name, store } of members) if (await store.head(key)) holders.push(name);
        assert.deepEqual(holders.sort(), preferred(lowered, key), key);
      }
    } finally {
      for (const { store } of members) {
        for (const key of keys) await store.delete(key);
        await store.close();
      }
    }
  });
});
