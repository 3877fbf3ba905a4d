import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PackIndex } from '@gitfleet/git-format';
import type { BlobStore, KVStore } from '@gitfleet/storage';
import { gitText } from '@gitfleet/test-support/git';
import { buildHistory } from '@gitfleet/test-support/histories';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import {
  LeaseLostError,
  MaintenanceLease,
  PublishConflictError,
  collectPacks,
  collectionDue,
  maintainRepository,
  publishPacks,
  type PackToPublish,
  type PackWriterStage,
  type Repository,
  type Stores,
} from '../src/index.js';
import {
  ADDING_KEY_PREFIX,
  BLOB_STATE_KEY_PREFIX,
  addingKey,
  deletingKey,
  orphanKey,
  packBlobKeys,
  packKey,
  parsePackRecord,
  repositoryScope,
} from '../src/keys.js';
import { caches } from './backends.js';
import { packObjects, type BuiltPack } from './git-fixtures.js';
import {
  PUSH_SOURCES,
  REPOSITORY_ID,
  addPack,
  maintenanceBackends,
  openRepository,
  packRange,
  testClock,
  type PushSource,
} from './maintenance-fixtures.js';

const GRACE_MS = 60_000;
const LEASE_MS = 600_000;
const workDir = tempDir({ after }, 'collector-races');
const scope = repositoryScope(REPOSITORY_ID);
let source: string;
/** The first commit's objects, and the second's on top. */
let first: BuiltPack;
let second: BuiltPack;
/** Every object of both, as one pack (what a compaction of the two writes), with offset deltas and with ref deltas. */
let whole: BuiltPack;
let wholeRefDeltas: BuiltPack;

before(() => {
  source = buildHistory(workDir, 2);
  first = packRange(source, path.join(workDir, 'first'), ['main~1']);
  second = packRange(source, path.join(workDir, 'second'), ['main', '^main~1']);
  whole = packRange(source, path.join(workDir, 'whole'), ['main']);
  mkdirSync(path.join(workDir, 'whole-ref'));
  wholeRefDeltas = packObjects(source, path.join(workDir, 'whole-ref'), ['main'], { offsetDeltas: false });
  assert.notEqual(whole.checksum, wholeRefDeltas.checksum);
});

/** A point where one party's calls to the stores stop until the test releases them: the other party runs its steps there. */
interface Hold {
  stores: Stores;
  /** Resolves when the call was held. */
  reached: Promise<void>;
  release(): void;
}

type HeldCall =
  { method: 'compareAndSwap'; ops: readonly { key: string; value: string | null }[] } | { method: 'putIfAbsent' | 'delete'; key: string };

/** Stores whose first call matching `when` is held right after it took effect. */
function holdAfter(stores: Stores, when: (call: HeldCall) => boolean): Hold {
  let reached!: () => void;
  let release!: () => void;
  const hold: Hold = {
    stores,
    reached: new Promise<void>((resolve) => (reached = resolve)),
    release: () => release(),
  };
  const released = new Promise<void>((resolve) => (release = resolve));
  let armed = true;
  const pause = async (call: HeldCall) => {
    if (!armed || !when(call)) return;
    armed = false;
    reached();
    await released;
  };
  const kv = wrap<KVStore>(stores.kv, {
    async compareAndSwap(target, scopeName, ops, mode) {
      const result = await target.compareAndSwap(scopeName, ops, mode);
      await pause({ method: 'compareAndSwap', ops });
      return result;
    },
  });
  const blobs = wrap<BlobStore>(stores.blobs, {
    async putIfAbsent(target, key, body) {
      const result = await target.putIfAbsent(key, body);
      await pause({ method: 'putIfAbsent', key });
      return result;
    },
    async delete(target, key) {
      await target.delete(key);
      await pause({ method: 'delete', key });
    },
  });
  hold.stores = { ...stores, ...caches(), kv, blobs };
  return hold;
}

type Overrides<T> = { [K in keyof T]?: T[K] extends (...args: infer A) => infer R ? (target: T, ...args: A) => R : never };

function wrap<T extends object>(target: T, overrides: Overrides<T>): T {
  return new Proxy(target, {
    get(object, property) {
      const override = overrides[property as keyof T];
      if (override) return (...args: unknown[]) => override(object, ...args);
      const value: unknown = Reflect.get(object, property, object);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(object) : value;
    },
  });
}

/** How the pushes of the running suite hand their packs over (each suite runs with both). */
let pushSource: PushSource = 'file';

function add(repo: Repository, pack: BuiltPack): Promise<void> {
  return addPack(repo, pack, pushSource);
}

async function publish(repo: Repository, lease: MaintenanceLease, pack: BuiltPack, replaced: string[], now: () => number): Promise<void> {
  const index = await repo.packs.store(pack.packPath, pack.packSize, pack.idx, pack.checksum);
  const added: PackToPublish[] = [{ checksum: pack.checksum, size: pack.packSize, index, kind: 'compaction' }];
  await publishPacks(repo, lease, { added, replaced, now });
}

/** `whole` pushed, then retired by maintenance in favour of `wholeRefDeltas` (the same objects), under a lease of `holder`. */
async function pushedAndRetired(
  stores: Stores,
  clock: { now: () => number },
  holder: string,
): Promise<{ repo: Repository; lease: MaintenanceLease }> {
  const repo = openRepository(stores);
  await add(repo, whole);
  const lease = (await MaintenanceLease.acquire(stores.kv, scope, holder, LEASE_MS, clock.now))!;
  await publish(repo, lease, wholeRefDeltas, [whole.checksum], clock.now);
  return { repo, lease };
}

/**
 * A push of `whole` held after storing its blobs, its claim dated `claimedAt`; meanwhile maintenance
 * publishes the same pack as the compaction of `first` and `second`, then retires it.
 */
async function heldPushOfACompaction(stores: Stores, clock: { now: () => number }, claimedAt: number) {
  const repo = openRepository(stores);
  await add(repo, first);
  await add(repo, second);
  const hold = holdAfter(stores, storedIdx);
  const pushing = add(openRepository(hold.stores, { now: () => claimedAt }), whole);
  await hold.reached;
  const lease = (await MaintenanceLease.acquire(stores.kv, scope, 'm', LEASE_MS, clock.now))!;
  await publish(repo, lease, whole, [first.checksum, second.checksum], clock.now);
  await publish(repo, lease, wholeRefDeltas, [whole.checksum], clock.now);
  return { repo, lease, pushing, hold };
}

/** Whether the pack is registered and every blob its record names is stored. */
async function blobsExist(stores: Stores, checksum: string): Promise<boolean> {
  const value = await stores.kv.get(scope, packKey(checksum));
  if (value === undefined) return false;
  const keys = packBlobKeys(REPOSITORY_ID, checksum, parsePackRecord(value, checksum, scope));
  const stored = await Promise.all(keys.map((key) => stores.blobs.head(key)));
  return stored.every((blob) => blob !== undefined);
}

/** THE invariant: every registered pack has its blobs; and the pushed history reads through a fresh server. */
async function assertIntact(stores: Stores, label: string): Promise<void> {
  for (const { key } of await stores.kv.scan(scope, 'pack:')) {
    const checksum = key.slice('pack:'.length);
    assert.ok(await blobsExist(stores, checksum), `${label}: pack ${checksum} is registered, its blobs must exist`);
  }
  const reader = openRepository({ ...stores, ...caches() });
  for (const oid of gitText(source, ['rev-list', '--objects', 'main']).split('\n').filter(Boolean)) {
    assert.ok(await reader.objects.read(oid.slice(0, 40)), `${label}: object ${oid.slice(0, 40)} readable`);
  }
}

const isClaim = (call: HeldCall) =>
  call.method === 'compareAndSwap' && call.ops.some((op) => op.key.startsWith(ADDING_KEY_PREFIX) && op.value !== null);
/** The put of a pack's idx, alone or joined to the pack: the last of its blobs to be stored. */
const storedIdx = (call: HeldCall) => call.method === 'putIfAbsent' && (call.key.endsWith('.idx') || call.key.endsWith('.packidx'));

for (const backend of maintenanceBackends) {
  for (const source of PUSH_SOURCES)
    describe(`collector races over ${backend.name}, pushes from a ${source}`, () => {
      before(() => (pushSource = source));
      for (const [step, when] of [
        ['claimed its blobs', isClaim],
        ['stored its blobs', storedIdx],
      ] as const) {
        test(`a push of a pack whose stale blobs are an orphan past its grace period, held after it ${step} while the collector runs, registers a pack with blobs`, async (t) => {
          const stores = await backend.open(t);
          const clock = testClock();
          const repo = openRepository(stores);
          // A crashed earlier push of the same pack: blobs, no record; sighted a grace period ago.
          await repo.packs.store(whole.packPath, whole.packSize, whole.idx, whole.checksum);
          const lease = (await MaintenanceLease.acquire(stores.kv, scope, 'm', LEASE_MS, clock.now))!;
          assert.deepEqual((await collectPacks(repo, lease, { graceMs: GRACE_MS, now: clock.now })).orphansSighted, [whole.checksum]);
          clock.advance(GRACE_MS + 1);

          const hold = holdAfter(stores, when);
          const pushing = add(openRepository(hold.stores), whole);
          await Promise.race([hold.reached, pushing]);
          const report = await collectPacks(repo, lease, { graceMs: GRACE_MS, now: clock.now });
          assert.deepEqual(report.orphansCollected, [], 'blobs a push has claimed are not deleted');
          hold.release();
          await pushing;
          assert.ok(await stores.kv.get(scope, packKey(whole.checksum)), 'registered');
          await assertIntact(stores, `held after it ${step}`);
          assert.deepEqual(await stores.kv.scan(scope, ADDING_KEY_PREFIX), [], 'no claim left');
        });
      }

      test('a push of a pack equal to a retired one past its grace period, racing the collector, leaves no registered pack without blobs', async (t) => {
        const stores = await backend.open(t);
        const clock = testClock();
        const { repo, lease } = await pushedAndRetired(stores, clock, 'm');
        clock.advance(GRACE_MS + 1);
        const hold = holdAfter(stores, storedIdx);
        const pushing = add(openRepository(hold.stores), whole);
        // The push finds the retired record and stops (its objects are in the replacement), or is held.
        await Promise.race([hold.reached, pushing]);
        assert.deepEqual((await collectPacks(repo, lease, { graceMs: GRACE_MS, now: clock.now })).collected, [whole.checksum]);
        hold.release();
        await pushing;
        await assertIntact(stores, 'after the collection');
        await add(openRepository({ ...stores, ...caches() }), whole);
        assert.ok(await blobsExist(stores, whole.checksum), 'pushed again after the collection: stored again');
        await assertIntact(stores, 'pushed again');
      });

      test('a push held after storing, while maintenance publishes, retires and collects the same pack, stores it again and registers it with blobs', async (t) => {
        const stores = await backend.open(t);
        const clock = testClock();
        const { repo, lease, pushing, hold } = await heldPushOfACompaction(stores, clock, clock.now());
        clock.advance(GRACE_MS + 1);
        const report = await collectPacks(repo, lease, { graceMs: GRACE_MS, now: clock.now });
        assert.deepEqual(report.claimsExpired, [whole.checksum], 'the claim of the push is a grace period old');
        assert.ok(report.collected.includes(whole.checksum), JSON.stringify(report));
        hold.release();
        await pushing;
        assert.equal(JSON.parse((await stores.kv.get(scope, packKey(whole.checksum)))!).kind, 'receive', 'registered by the push');
        await assertIntact(stores, 'after the push');
      });

      test('a retired pack that a push still claims is not collected, whatever the clocks say', async (t) => {
        const stores = await backend.open(t);
        const clock = testClock();
        // The pushing server's clock runs ahead: its claim does not look old to the collector.
        const { repo, lease, pushing, hold } = await heldPushOfACompaction(stores, clock, clock.now() + 2 * GRACE_MS);
        clock.advance(GRACE_MS + 1);
        const report = await collectPacks(repo, lease, { graceMs: GRACE_MS, now: clock.now });
        assert.deepEqual([report.claimsExpired, report.collected], [[], [first.checksum, second.checksum].sort()]);
        hold.release();
        await pushing;
        await assertIntact(stores, 'after the push');
        assert.deepEqual(await stores.kv.scan(scope, ADDING_KEY_PREFIX), [], 'the push gave its claim up');
        assert.ok((await collectPacks(repo, lease, { graceMs: GRACE_MS, now: clock.now })).collected.includes(whole.checksum));
        await assertIntact(stores, 'after the next collection');
      });

      test('a leftover deletion mark of a pack registered since is dropped, and its blobs stay', async (t) => {
        const stores = await backend.open(t);
        const clock = testClock();
        const repo = openRepository(stores);
        await add(repo, whole);
        // A mark written by a collector that stopped, under a record that exists (a registration the mark did not stop).
        await stores.kv.compareAndSwap(scope, [{ key: deletingKey(whole.checksum), expect: null, value: 'stopped' }], 'all');
        const lease = (await MaintenanceLease.acquire(stores.kv, scope, 'm', LEASE_MS, clock.now))!;
        const report = await collectPacks(repo, lease, { graceMs: GRACE_MS, now: clock.now });
        assert.deepEqual(report.orphansCollected, []);
        assert.equal(await stores.kv.get(scope, deletingKey(whole.checksum)), undefined, 'mark dropped');
        await assertIntact(stores, 'after resuming the mark');
      });

      test('a compaction equal to blobs a stopped collector marked for deletion is refused by publishPacks, and published with blobs by a maintenance run', async (t) => {
        const stores = await backend.open(t);
        const clock = testClock();
        const repo = openRepository(stores);
        await add(repo, first);
        await add(repo, second);
        // An earlier run stored the compaction and stopped; a later collector marked it and stopped too.
        await repo.packs.store(whole.packPath, whole.packSize, whole.idx, whole.checksum);
        await stores.kv.compareAndSwap(scope, [{ key: deletingKey(whole.checksum), expect: null, value: 'stopped' }], 'all');
        const lease = (await MaintenanceLease.acquire(stores.kv, scope, 'm', LEASE_MS, clock.now))!;
        await assert.rejects(
          publish(repo, lease, whole, [first.checksum, second.checksum], clock.now),
          (error: Error) => error instanceof PublishConflictError && /marked for deletion/.test(error.message),
        );
        await lease.release();
        const writer: PackWriterStage = {
          compact: async () => ({
            path: whole.packPath,
            size: whole.packSize,
            checksum: whole.checksum,
            idx: whole.idx,
            objectCount: PackIndex.parse(whole.idx, whole.packSize).objectCount,
          }),
          repack: () => Promise.reject(new Error('not used')),
        };
        const run = await maintainRepository(openRepository(stores), {
          holder: 'm',
          graceSeconds: GRACE_MS / 1000,
          mode: 'compact',
          tmpDir: tempDir(t, 'run'),
          writer,
          now: clock.now,
        });
        assert.equal(run.action, 'compact');
        assert.deepEqual(run.orphansCollected, [whole.checksum], 'the stopped deletion finished before the run stored its pack');
        assert.deepEqual(
          (await openRepository(stores).packs.list()).map((p) => p.checksum),
          [whole.checksum],
        );
        await assertIntact(stores, 'after the run');
      });

      test('a runner whose lease is about to expire deletes no blob; the next holder finishes the deletion', async (t) => {
        const stores = await backend.open(t);
        const clock = testClock();
        const { repo, lease } = await pushedAndRetired(stores, clock, 'stalled');
        // Stalled: no renewal for two thirds of the lease.
        clock.advance((LEASE_MS * 2) / 3);
        await assert.rejects(collectPacks(repo, lease, { graceMs: GRACE_MS, now: clock.now }), LeaseLostError);
        assert.ok(await blobsExist(stores, whole.checksum), 'no blob deleted');
        clock.advance(LEASE_MS / 3 + 1);
        const next = (await MaintenanceLease.acquire(stores.kv, scope, 'next', LEASE_MS, clock.now))!;
        assert.deepEqual((await collectPacks(repo, next, { graceMs: GRACE_MS, now: clock.now })).collected, [whole.checksum]);
        assert.equal(await blobsExist(stores, whole.checksum), false);
        assert.deepEqual(await stores.kv.scan(scope, BLOB_STATE_KEY_PREFIX), []);
        await assertIntact(stores, 'after the next holder');
      });

      test('a server whose view knows a pack as retired lists it at once when it registers the pack again', async (t) => {
        const stores = await backend.open(t);
        const clock = testClock();
        const { repo, lease } = await pushedAndRetired(stores, clock, 'm');
        const pusher = openRepository({ ...stores, ...caches() }, { maxAgeMs: 3_600_000 });
        assert.deepEqual(
          (await pusher.packs.list()).map((p) => p.checksum),
          [wholeRefDeltas.checksum],
        );
        clock.advance(GRACE_MS + 1);
        await collectPacks(repo, lease, { graceMs: GRACE_MS, now: clock.now });
        await add(pusher, whole);
        assert.deepEqual((await pusher.packs.list()).map((p) => p.checksum).sort(), [whole.checksum, wholeRefDeltas.checksum].sort());
      });

      test('claims: concurrent pushes of one pack and a claim left by a crashed push block no push; a failed store leaves no claim', async (t) => {
        const stores = await backend.open(t);
        const repo = openRepository(stores);
        await stores.kv.compareAndSwap(
          scope,
          [{ key: addingKey(whole.checksum, 'crashed'), expect: null, value: new Date().toISOString() }],
          'all',
        );
        await Promise.all([add(repo, whole), add(openRepository({ ...stores, ...caches() }), whole)]);
        assert.ok(await blobsExist(stores, whole.checksum));
        assert.deepEqual(
          (await stores.kv.scan(scope, ADDING_KEY_PREFIX)).map((e) => e.key),
          [addingKey(whole.checksum, 'crashed')],
          'only the crashed claim is left',
        );
        const failing = wrap<BlobStore>(stores.blobs, {
          putIfAbsent: () => Promise.reject(new Error('store unavailable')),
        });
        await assert.rejects(add(openRepository({ ...stores, ...caches(), blobs: failing }), first), /store unavailable/);
        assert.deepEqual((await stores.kv.scan(scope, ADDING_KEY_PREFIX)).length, 1, 'the failed push gave its claim up');
      });

      test('collectionDue: retired packs, sightings and claims past the grace period, and unfinished deletions are due; nothing else', async (t) => {
        const stores = await backend.open(t);
        const clock = testClock();
        const repo = openRepository(stores);
        const due = () => collectionDue(openRepository(stores), GRACE_MS, clock.now);
        await add(repo, whole);
        assert.equal(await due(), false, 'an active pack');
        const lease = (await MaintenanceLease.acquire(stores.kv, scope, 'm', LEASE_MS, clock.now))!;
        await publish(repo, lease, wholeRefDeltas, [whole.checksum], clock.now);
        assert.equal(await due(), false, 'retired within the grace period');
        clock.advance(GRACE_MS + 1);
        assert.equal(await due(), true, 'retired past the grace period');
        await collectPacks(repo, lease, { graceMs: GRACE_MS, now: clock.now });
        assert.equal(await due(), false, 'collected');

        const sighting = new Date(clock.now()).toISOString();
        await stores.kv.compareAndSwap(scope, [{ key: orphanKey(first.checksum), expect: null, value: sighting }], 'all');
        await stores.kv.compareAndSwap(scope, [{ key: addingKey(second.checksum, 'x'), expect: null, value: sighting }], 'all');
        assert.equal(await due(), false, 'a fresh sighting and a fresh claim');
        clock.advance(GRACE_MS + 1);
        assert.equal(await due(), true, 'a sighting and a claim past the grace period');
        await stores.kv.compareAndSwap(
          scope,
          [
            { key: orphanKey(first.checksum), expect: sighting, value: null },
            { key: addingKey(second.checksum, 'x'), expect: sighting, value: null },
            { key: deletingKey(first.checksum), expect: null, value: sighting },
          ],
          'all',
        );
        assert.equal(await due(), true, 'an unfinished deletion');
      });
    });

  test(`over ${backend.name}: a reader whose view predates a pack's collection and its push again in the other layout reads it`, async (t) => {
    const stores = await backend.open(t);
    const clock = testClock();
    pushSource = 'file';
    const repo = openRepository(stores);
    await add(repo, whole);
    // A server that listed `whole` as stored in a .pack and an .idx, and does not read the registry again by itself.
    const reader = openRepository({ ...stores, ...caches() }, { maxAgeMs: 3_600_000, now: () => 0 });
    assert.deepEqual(
      (await reader.packs.list()).map((p) => [p.checksum, p.layout]),
      [[whole.checksum, undefined]],
    );
    await reader.packs.index(whole.checksum);
    const lease = (await MaintenanceLease.acquire(stores.kv, scope, 'm', LEASE_MS, clock.now))!;
    await publish(repo, lease, wholeRefDeltas, [whole.checksum], clock.now);
    clock.advance(GRACE_MS + 1);
    assert.deepEqual((await collectPacks(repo, lease, { graceMs: GRACE_MS, now: clock.now })).collected, [whole.checksum]);
    await addPack(openRepository({ ...stores, ...caches() }), whole, 'bytes');
    assert.equal(JSON.parse((await stores.kv.get(scope, packKey(whole.checksum)))!).layout, 'joined');
    await assertIntact(stores, 'pushed again');
    for (const oid of gitText(source, ['rev-list', '--objects', 'main']).split('\n').filter(Boolean)) {
      assert.ok(await reader.objects.read(oid.slice(0, 40)), `object ${oid.slice(0, 40)} read through the old view`);
    }
  });
}
