/** transferRepository on its own: its order of checks, the owner's stored spelling, a repository deleted meanwhile. */
import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import { AccountStore, type PasswordHasher, type User } from '@gitfleet/accounts';
import { BlockCache, InvalidRepositoryName, RepositoryExists, RepositoryRegistry } from '@gitfleet/repository';
import { MemoryBlobStore, MemoryKVStore } from '@gitfleet/storage';
import { CreationRefused, OwnerNotFound } from '../src/operations/errors.js';
import { transferRepository } from '../src/operations/transfer-repository.js';

/** Passwords play no part here: a hasher that costs nothing. */
const plainHasher: PasswordHasher = {
  hash: async (password) => `plain:${password}`,
  verify: async (hash, password) => hash === `plain:${password}`,
};

let stores: { accounts: AccountStore; registry: RepositoryRegistry };
let alice: User;
let bob: User;

beforeEach(async () => {
  const kv = new MemoryKVStore();
  stores = {
    accounts: new AccountStore(kv, { passwordHasher: plainHasher }),
    registry: new RepositoryRegistry({ kv, blobs: new MemoryBlobStore(), cache: new BlockCache({ blockSize: 4096, maxBytes: 1 << 20 }) }),
  };
  alice = await stores.accounts.createUser({ name: 'alice', email: 'alice@example.com', password: 'a long enough password' });
  bob = await stores.accounts.createUser({ name: 'bob', email: 'bob@example.com', password: 'a long enough password' });
  await stores.accounts.createOrganization({ name: 'Wonderland', creator: alice.name });
});

describe('transferRepository', () => {
  test('checks the new owner, then the one transferring, then the name, then that it is free; nothing moves on a refusal', async () => {
    const repo = await stores.registry.create('alice', 'tea');
    await stores.registry.create('Wonderland', 'taken');
    await assert.rejects(transferRepository(stores, repo, { newOwner: 'nobody', newName: '..', by: bob }), OwnerNotFound);
    await assert.rejects(transferRepository(stores, repo, { newOwner: 'wonderland', newName: '..', by: bob }), CreationRefused);
    await assert.rejects(transferRepository(stores, repo, { newOwner: 'wonderland', newName: '..', by: alice }), InvalidRepositoryName);
    await assert.rejects(transferRepository(stores, repo, { newOwner: 'wonderland', newName: 'TAKEN', by: alice }), RepositoryExists);
    assert.deepEqual((await stores.registry.open('alice', 'tea'))?.info, repo.info);
  });

  test('files it under the owner as stored; without anyone transferring (the operator), any owner will do', async () => {
    const repo = await stores.registry.create('alice', 'tea');
    const moved = await transferRepository(stores, repo, { newOwner: 'WONDERLAND', by: alice });
    assert.ok(moved);
    assert.deepEqual(moved.info, { ...repo.info, owner: 'Wonderland' });
    const back = await transferRepository(stores, moved, { newOwner: 'BOB', newName: 'cup' });
    assert.deepEqual(back?.info, { ...repo.info, owner: 'bob', name: 'cup' });
  });

  test('undefined for a repository deleted meanwhile', async () => {
    const repo = await stores.registry.create('alice', 'tea');
    await stores.registry.delete('alice', 'tea');
    assert.equal(await transferRepository(stores, repo, { newOwner: 'wonderland', by: alice }), undefined);
    assert.deepEqual(await stores.registry.list(), []);
  });
});
