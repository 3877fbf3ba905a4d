import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ACCOUNTS_SCOPE } from '@gitfleet/accounts';
import { RecoveryTargetNotEmpty } from '@gitfleet/repository';
import { MemoryBlobStore, MemoryKVStore, type KVStore } from '@gitfleet/storage';
import {
  ACCOUNTS_SNAPSHOT_PREFIX,
  ACCOUNTS_SNAPSHOTS_KEPT,
  restoreAccounts,
  snapshotAccounts,
} from '../src/operations/accounts-snapshot.js';

async function put(kv: KVStore, key: string, value: string): Promise<void> {
  const current = (await kv.get(ACCOUNTS_SCOPE, key)) ?? null;
  await kv.compareAndSwap(ACCOUNTS_SCOPE, [{ key, expect: current, value }], 'all');
}

test('snapshots keep the newest; a restore brings back the newest into an empty accounts scope only', async () => {
  const blobs = new MemoryBlobStore();
  const kv = new MemoryKVStore();
  await put(kv, 'user:dana', '{"name":"dana"}');
  const start = Date.UTC(2026, 0, 1);
  for (let i = 0; i < ACCOUNTS_SNAPSHOTS_KEPT + 2; i++) {
    await put(kv, 'seq:owner', String(i));
    await snapshotAccounts({ kv, blobs }, new Date(start + i * 60_000));
  }
  const keys: string[] = [];
  for await (const { key } of blobs.list(ACCOUNTS_SNAPSHOT_PREFIX)) keys.push(key);
  assert.equal(keys.length, ACCOUNTS_SNAPSHOTS_KEPT);
  assert.match(keys[0], /2026-01-01T0002/, 'the two oldest are gone');

  await assert.rejects(restoreAccounts({ kv, blobs }), RecoveryTargetNotEmpty);
  const fresh = new MemoryKVStore();
  const restored = await restoreAccounts({ kv: fresh, blobs });
  assert.equal(restored.entries, 2);
  assert.equal(await fresh.get(ACCOUNTS_SCOPE, 'seq:owner'), String(ACCOUNTS_SNAPSHOTS_KEPT + 1));
  assert.equal(await fresh.get(ACCOUNTS_SCOPE, 'user:dana'), '{"name":"dana"}');

  await put(fresh, 'user:dana', 'changed since');
  await restoreAccounts({ kv: fresh, blobs }, { key: keys[0], force: true });
  assert.equal(await fresh.get(ACCOUNTS_SCOPE, 'user:dana'), '{"name":"dana"}');
  assert.equal(await fresh.get(ACCOUNTS_SCOPE, 'seq:owner'), '2');
});
