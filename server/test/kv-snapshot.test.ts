import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ACCOUNTS_SCOPE, AccountStore, type PasswordHasher } from '@gitfleet/accounts';
import { hookScope, statusesScope } from '@gitfleet/events';
import { BlockCache, RecoveryTargetNotEmpty, RepositoryRegistry, type Stores } from '@gitfleet/repository';
import { MemoryBlobStore, MemoryKVStore, type KVStore } from '@gitfleet/storage';
import { SNAPSHOT_PREFIX, SNAPSHOTS_KEPT, restoreSnapshot, writeSnapshot } from '../src/operations/kv-snapshot.js';

/** Passwords play no part here: a hasher that costs nothing. */
const plainHasher: PasswordHasher = {
  hash: async (password) => `plain:${password}`,
  verify: async (hash, password) => hash === `plain:${password}`,
};

async function put(kv: KVStore, scope: string, key: string, value: string): Promise<void> {
  const current = (await kv.get(scope, key)) ?? null;
  await kv.compareAndSwap(scope, [{ key, expect: current, value }], 'all');
}

test('a snapshot holds accounts, hooks and statuses; the newest are kept; a restore fills empty scopes only', async () => {
  const stores: Stores = {
    blobs: new MemoryBlobStore(),
    kv: new MemoryKVStore(),
    cache: new BlockCache({ blockSize: 4096, maxBytes: 65536 }),
  };
  const accounts = new AccountStore(stores.kv, { passwordHasher: plainHasher });
  const registry = new RepositoryRegistry(stores);
  const dana = await accounts.createUser({ name: 'dana', email: 'dana@example.test', password: 'secret-1' });
  const repo = await registry.create('dana', 'hello');
  const repositoryHooks = hookScope({ kind: 'repository', repositoryId: repo.info.id, owner: 'dana', name: 'hello' });
  const ownerHooks = hookScope({ kind: 'organization', ownerId: dana.id, owner: 'dana' });
  await put(stores.kv, repositoryHooks, 'hook:000000000001', '{"url":"https://ci.example.test"}');
  await put(stores.kv, ownerHooks, 'hook:000000000002', '{"url":"https://owner.example.test"}');
  await put(stores.kv, statusesScope(repo.info.id), 'total:abc', '1');

  const start = Date.UTC(2026, 0, 1);
  const sources = { kv: stores.kv, blobs: stores.blobs, accounts, registry };
  for (let i = 0; i < SNAPSHOTS_KEPT + 2; i++) {
    await put(stores.kv, statusesScope(repo.info.id), 'total:abc', String(i));
    await writeSnapshot(sources, new Date(start + i * 60_000));
  }
  const keys: string[] = [];
  for await (const { key } of stores.blobs.list(SNAPSHOT_PREFIX)) keys.push(key);
  assert.equal(keys.length, SNAPSHOTS_KEPT);
  assert.match(keys[0], /2026-01-01T0002/, 'the two oldest are gone');

  await assert.rejects(restoreSnapshot(stores), RecoveryTargetNotEmpty);
  const fresh = new MemoryKVStore();
  const restored = await restoreSnapshot({ kv: fresh, blobs: stores.blobs });
  assert.equal(restored.scopes, 4);
  assert.equal(await fresh.get(statusesScope(repo.info.id), 'total:abc'), String(SNAPSHOTS_KEPT + 1));
  assert.equal(await fresh.get(repositoryHooks, 'hook:000000000001'), '{"url":"https://ci.example.test"}');
  assert.equal(await fresh.get(ownerHooks, 'hook:000000000002'), '{"url":"https://owner.example.test"}');
  assert.ok(await new AccountStore(fresh, { passwordHasher: plainHasher }).getUser('dana'));
  assert.deepEqual(await fresh.scan(ACCOUNTS_SCOPE, ''), await stores.kv.scan(ACCOUNTS_SCOPE, ''));

  await put(fresh, statusesScope(repo.info.id), 'total:abc', 'changed since');
  await restoreSnapshot({ kv: fresh, blobs: stores.blobs }, { key: keys[0], force: true });
  assert.equal(await fresh.get(statusesScope(repo.info.id), 'total:abc'), '2');
});
