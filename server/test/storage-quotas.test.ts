import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import { AccountStore, QuotaStore, type PasswordHasher, type User } from '@gitfleet/accounts';
import { BlockCache, RepositoryRegistry, type Stores } from '@gitfleet/repository';
import { MemoryBlobStore, MemoryKVStore } from '@gitfleet/storage';
import { OwnerNotFound } from '../src/operations/errors.js';
import { ownerStorage, StorageQuotas, type LfsUsageSource } from '../src/operations/storage-quotas.js';

const plainHasher: PasswordHasher = {
  hash: async (password) => `plain:${password}`,
  verify: async (hash, password) => hash === `plain:${password}`,
};

/** LFS bytes per repository id, set by each test. */
class FixedLfsUsage implements LfsUsageSource {
  readonly bytes = new Map<string, number>();
  async repositoryBytes(repositoryId: string): Promise<number> {
    return this.bytes.get(repositoryId) ?? 0;
  }
}

let stores: Stores;
let accounts: AccountStore;
let quotaStore: QuotaStore;
let lfs: FixedLfsUsage;
let quotas: StorageQuotas;
let alice: User;
let bob: User;

beforeEach(async () => {
  const kv = new MemoryKVStore();
  stores = { kv, blobs: new MemoryBlobStore(), cache: new BlockCache({ blockSize: 4096, maxBytes: 1 << 20 }) };
  const registry = new RepositoryRegistry(stores);
  accounts = new AccountStore(kv, { passwordHasher: plainHasher });
  quotaStore = new QuotaStore(kv);
  lfs = new FixedLfsUsage();
  quotas = new StorageQuotas(registry, stores, quotaStore, lfs);
  alice = await accounts.createUser({ name: 'alice', email: 'alice@example.com', password: 'a long enough password' });
  bob = await accounts.createUser({ name: 'bob', email: 'bob@example.com', password: 'a long enough password' });
  await accounts.createOrganization({ name: 'Wonderland', creator: alice.name });
  const first = await registry.create('alice', 'one');
  const second = await registry.create('alice', 'two');
  lfs.bytes.set(first.info.id, 300);
  lfs.bytes.set(second.info.id, 100);
});

describe('StorageQuotas.room', () => {
  test('no limit of the kind and no total: no room to keep to', async () => {
    await quotaStore.set('alice', { packsBytes: 10 });
    assert.equal(await quotas.room('alice', 'lfs'), undefined);
    assert.equal(await quotas.room('bob', 'packs'), undefined);
  });

  test("the kind's own limit less what the owner's repositories hold of it", async () => {
    await quotaStore.set('alice', { lfsBytes: 1000 });
    const room = await quotas.room('alice', 'lfs');
    assert.equal(room?.bytes, 600);
    assert.match(room.reason, /^alice's Git LFS quota is 1000 B and 400 B of it is used: nothing was stored/);
  });

  test('the tighter of the own limit and the total decides, and the reason names it', async () => {
    await quotaStore.set('alice', { lfsBytes: 1000, totalBytes: 500 });
    const byTotal = await quotas.room('alice', 'lfs');
    assert.equal(byTotal?.bytes, 100);
    assert.match(byTotal.reason, /alice's storage quota is 500 B/);

    await quotaStore.set('alice', { lfsBytes: 450, totalBytes: 10_000 });
    const byOwn = await quotas.room('alice', 'lfs');
    assert.equal(byOwn?.bytes, 50);
    assert.match(byOwn.reason, /alice's Git LFS quota is 450 B/);
  });

  test('the total alone limits packs too, counting the LFS objects', async () => {
    await quotaStore.set('alice', { totalBytes: 1000 });
    assert.equal((await quotas.room('alice', 'packs'))?.bytes, 600);
  });

  test('past the limit there is no room, never a negative one', async () => {
    await quotaStore.set('alice', { lfsBytes: 100 });
    assert.equal((await quotas.room('alice', 'lfs'))?.bytes, 0);
  });
});

describe('ownerStorage', () => {
  test('the user, site administrators and who may create under the organisation see it', async () => {
    await quotaStore.set('alice', { totalBytes: 2048 });
    const own = await ownerStorage(accounts, quotas, alice, 'ALICE');
    assert.deepEqual(own, { owner: 'alice', usage: { packsBytes: 0, lfsBytes: 400, totalBytes: 400 }, quota: { totalBytes: 2048 } });
    const admin = await accounts.updateUser('bob', { isAdmin: true });
    assert.deepEqual(await ownerStorage(accounts, quotas, admin, 'alice'), own);
    assert.equal((await ownerStorage(accounts, quotas, alice, 'wonderland')).owner, 'Wonderland');
  });

  test('anyone else, and an unknown owner, get OwnerNotFound', async () => {
    await assert.rejects(ownerStorage(accounts, quotas, bob, 'alice'), OwnerNotFound);
    await assert.rejects(ownerStorage(accounts, quotas, undefined, 'alice'), OwnerNotFound);
    await assert.rejects(ownerStorage(accounts, quotas, bob, 'Wonderland'), OwnerNotFound);
    await assert.rejects(ownerStorage(accounts, quotas, alice, 'nobody'), OwnerNotFound);
  });
});
