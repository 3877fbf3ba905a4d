import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KVStore } from '@gitfleet/storage';
import { PackSet, SHARED_VIEW_FRESH_MS, sharedPackSet } from '../src/pack-set.js';
import { packKey } from '../src/keys.js';
import { maintenanceBackends } from './maintenance-fixtures.js';

const scope = 'repo:packsettest0000000000000000000000';
const checksum = (n: number) => n.toString(16).padStart(40, '0');
const record = (n: number, extra: object = {}) =>
  JSON.stringify({
    size: 100 + n,
    objects: n,
    createdAt: `2026-01-01T00:00:${String(n).padStart(2, '0')}.000Z`,
    kind: 'receive',
    ...extra,
  });

async function register(kv: KVStore, n: number): Promise<void> {
  await kv.compareAndSwap(scope, [{ key: packKey(checksum(n)), expect: null, value: record(n) }], 'all');
}

/** A KV store whose scans, once read, wait for releaseScan(): what a pack added meanwhile meets. */
function heldScan(kv: KVStore): { slowScan: KVStore; started: Promise<void>; releaseScan: () => void } {
  let releaseScan!: () => void;
  const scanHeld = new Promise<void>((resolve) => (releaseScan = resolve));
  let scanStarted!: () => void;
  const started = new Promise<void>((resolve) => (scanStarted = resolve));
  const slowScan: KVStore = Object.assign(Object.create(null) as KVStore, {
    scan: async (s: string, prefix: string) => {
      const entries = await kv.scan(s, prefix);
      scanStarted();
      await scanHeld;
      return entries;
    },
  });
  return { slowScan, started, releaseScan };
}

/** A KV store that counts its scans. */
function countingScans(kv: KVStore): { counted: KVStore; scans: () => number } {
  let scans = 0;
  const counted: KVStore = Object.assign(Object.create(null) as KVStore, {
    scan: (s: string, prefix: string) => {
      scans++;
      return kv.scan(s, prefix);
    },
  });
  return { counted, scans: () => scans };
}

for (const backend of maintenanceBackends) {
  describe(`pack registry view over ${backend.name}`, () => {
    test("the requests of a process share a repository's view, read again for a request that starts once it is a second old", async (t) => {
      const { kv } = await backend.open(t);
      const { counted, scans } = countingScans(kv);
      let now = 0;
      const options = { maxAgeMs: 30_000, now: () => now };
      const stores = {};
      await register(kv, 1);
      const first = sharedPackSet(stores, counted, scope, options);
      assert.equal((await first.list()).length, 1);
      await register(kv, 2);
      now = SHARED_VIEW_FRESH_MS;
      const second = sharedPackSet(stores, counted, scope, options);
      assert.equal(second, first);
      assert.equal((await second.list()).length, 1, 'a view read a second ago serves a new request as it is');
      assert.equal(scans(), 1);

      now = SHARED_VIEW_FRESH_MS + 1;
      assert.equal((await first.list()).length, 1, 'a request under way keeps its view until maxAgeMs');
      const third = sharedPackSet(stores, counted, scope, options);
      assert.equal(first.listed(), undefined, 'the view is read again before its next use');
      assert.deepEqual(
        (await third.list()).map((p) => p.checksum),
        [checksum(2), checksum(1)],
      );
      assert.equal(scans(), 2);

      const elsewhere = sharedPackSet({}, counted, scope, options);
      assert.notEqual(elsewhere, first, 'other stores (another process) have a view of their own');
      await elsewhere.list();
      assert.equal(scans(), 3);
    });

    test('a retired record leaves the active list but stays known; a deleted one is forgotten; the view is re-read when older than maxAgeMs', async (t) => {
      const { kv } = await backend.open(t);
      let now = 0;
      const set = new PackSet(kv, scope, { maxAgeMs: 1000, now: () => now });
      await register(kv, 1);
      await register(kv, 2);
      assert.deepEqual(
        (await set.list()).map((p) => p.checksum),
        [checksum(2), checksum(1)],
      );

      await kv.compareAndSwap(
        scope,
        [
          {
            key: packKey(checksum(1)),
            expect: record(1),
            value: record(1, { retiredAt: '2026-02-01T00:00:00.000Z', replacedBy: checksum(2) }),
          },
        ],
        'all',
      );
      now = 1000;
      assert.equal((await set.list()).length, 2, 'a view 1000 ms old is still used');
      assert.ok(set.listed(), 'and listed without waiting');
      now = 1001;
      assert.equal(set.listed(), undefined, 'too old to use without reading');
      assert.deepEqual(
        (await set.list()).map((p) => p.checksum),
        [checksum(2)],
      );
      assert.equal(set.known(checksum(1))?.retiredAt, '2026-02-01T00:00:00.000Z');

      await kv.compareAndSwap(
        scope,
        [{ key: packKey(checksum(1)), expect: (await kv.get(scope, packKey(checksum(1))))!, value: null }],
        'all',
      );
      await set.refreshAfter(set.generation);
      assert.equal(set.known(checksum(1)), undefined);
    });

    test('a pack added while a scan runs stays, though the scan did not see it', async (t) => {
      const { kv } = await backend.open(t);
      const { slowScan, started, releaseScan } = heldScan(kv);
      await register(kv, 1);
      const set = new PackSet(slowScan, scope);
      const listing = set.list();
      await started;
      await register(kv, 2);
      set.add({
        checksum: checksum(2),
        ...(JSON.parse(record(2)) as { size: number; objects: number; createdAt: string; kind: 'receive' }),
      });
      releaseScan();
      assert.deepEqual(
        (await listing).map((p) => p.checksum),
        [checksum(2), checksum(1)],
      );
    });

    test('a pack registered again while a scan reads its earlier, retired record stays active', async (t) => {
      const { kv } = await backend.open(t);
      const retired = record(1, { retiredAt: '2026-02-01T00:00:00.000Z', replacedBy: checksum(2) });
      await kv.compareAndSwap(scope, [{ key: packKey(checksum(1)), expect: null, value: retired }], 'all');
      const { slowScan, started, releaseScan } = heldScan(kv);
      const set = new PackSet(slowScan, scope);
      const listing = set.list();
      await started;
      // The collector deletes the retired record; a push registers the same pack again.
      const again = {
        ...(JSON.parse(record(1)) as { size: number; objects: number; kind: 'receive' }),
        createdAt: '2026-03-01T00:00:00.000Z',
      };
      await kv.compareAndSwap(scope, [{ key: packKey(checksum(1)), expect: retired, value: JSON.stringify(again) }], 'all');
      set.add({ checksum: checksum(1), ...again });
      releaseScan();
      assert.deepEqual(
        (await listing).map((p) => p.checksum),
        [checksum(1)],
      );
    });
  });
}
