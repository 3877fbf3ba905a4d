import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import { AccountConflict, AccountStore, type PasswordHasher, type User } from '@gitfleet/accounts';
import { RevisionNotFound } from '@gitfleet/browse';
import { BlockCache, InvalidRepositoryName, JournalWriteError, RepositoryExists, RepositoryRegistry } from '@gitfleet/repository';
import { MemoryBlobStore, MemoryKVStore, StorageFull, WriteOutcomeUnknown } from '@gitfleet/storage';
import { EXIT, cliErrorFor } from '../src/cli/errors.js';
import { HttpError } from '../src/http-errors.js';
import { changeRepository } from '../src/operations/change-repository.js';
import { createRepository } from '../src/operations/create-repository.js';
import {
  BranchNotFound,
  CreationRefused,
  OwnerHasRepositories,
  OwnerNotFound,
  httpStatusOf,
  refusalMessage,
} from '../src/operations/errors.js';
import { deleteOrganization, deleteUser, ownerDisplayName } from '../src/operations/owners.js';

/** Passwords play no part here: a hasher that costs nothing. */
const plainHasher: PasswordHasher = {
  hash: async (password) => `plain:${password}`,
  verify: async (hash, password) => hash === `plain:${password}`,
};

let kv: MemoryKVStore;
let accounts: AccountStore;
let registry: RepositoryRegistry;
let alice: User;
let bob: User;

beforeEach(async () => {
  kv = new MemoryKVStore();
  accounts = new AccountStore(kv, { passwordHasher: plainHasher });
  registry = new RepositoryRegistry({ kv, blobs: new MemoryBlobStore(), cache: new BlockCache({ blockSize: 4096, maxBytes: 1 << 20 }) });
  alice = await accounts.createUser({
    name: 'Alice',
    email: 'alice@example.com',
    password: 'a long enough password',
    fullName: 'Alice Liddell',
  });
  bob = await accounts.createUser({ name: 'bob', email: 'bob@example.com', password: 'a long enough password' });
  await accounts.createOrganization({ name: 'Wonderland', creator: alice.name });
});

describe('createRepository', () => {
  test('files the repository under the owner as stored, with the registry defaults', async () => {
    const repo = await createRepository({ accounts, registry }, { owner: 'alice', name: 'hello', creator: alice });
    assert.deepEqual([repo.info.owner, repo.info.name, repo.info.private, repo.info.description], ['Alice', 'hello', false, '']);
    assert.equal(await repo.refs.head(), 'refs/heads/main');
  });

  test('checks the owner, then the creator, then the name, then that it is new', async () => {
    const stores = { accounts, registry };
    await assert.rejects(createRepository(stores, { owner: 'nobody', name: '..', creator: alice }), OwnerNotFound);
    await assert.rejects(createRepository(stores, { owner: 'wonderland', name: '..', creator: bob }), CreationRefused);
    await assert.rejects(createRepository(stores, { owner: 'wonderland', name: '..', creator: alice }), InvalidRepositoryName);
    await createRepository(stores, { owner: 'wonderland', name: 'tea', creator: alice });
    await assert.rejects(createRepository(stores, { owner: 'wonderland', name: 'TEA', creator: alice }), RepositoryExists);
  });

  test('without a creator (the operator), any owner will do', async () => {
    const repo = await createRepository(
      { accounts, registry },
      { owner: 'wonderland', name: 'private-tea', private: true, defaultBranch: 'trunk' },
    );
    assert.equal(repo.info.owner, 'Wonderland');
    assert.equal(repo.info.private, true);
    assert.equal(await repo.refs.head(), 'refs/heads/trunk');
  });
});

describe('changeRepository', () => {
  test('a default branch that does not exist: only in an empty repository for the API, only the current one for the web', async () => {
    const repo = await createRepository({ accounts, registry }, { owner: 'alice', name: 'empty' });
    const moved = await changeRepository(registry, repo, { defaultBranch: 'trunk' }, 'in-an-empty-repository');
    assert.equal(await moved!.refs.head(), 'refs/heads/trunk');
    await assert.rejects(changeRepository(registry, repo, { defaultBranch: 'other' }, 'when-unchanged'), BranchNotFound);
    const unchanged = await changeRepository(registry, repo, { defaultBranch: 'trunk', description: 'still empty' }, 'when-unchanged');
    assert.equal(unchanged!.info.description, 'still empty');
  });

  test('renames, keeping the id; undefined for a repository deleted meanwhile', async () => {
    const repo = await createRepository({ accounts, registry }, { owner: 'alice', name: 'old' });
    const renamed = await changeRepository(registry, repo, { name: 'new' }, 'in-an-empty-repository');
    assert.deepEqual([renamed!.info.name, renamed!.info.id], ['new', repo.info.id]);
    assert.equal(await changeRepository(registry, repo, { description: 'x' }, 'in-an-empty-repository'), undefined);
  });
});

describe('owners', () => {
  test('an owner of repositories is not deleted; once they are gone, it is', async () => {
    const repo = await createRepository({ accounts, registry }, { owner: 'wonderland', name: 'tea' });
    const org = (await accounts.getOrganization('wonderland'))!;
    const refusal = await deleteOrganization({ accounts, registry, kv }, org).catch((error: unknown) => error);
    assert.ok(refusal instanceof OwnerHasRepositories);
    assert.equal(refusal.message, 'organization Wonderland still owns 1 repository; delete or transfer them first');
    assert.deepEqual(
      refusal.repositories.map((info) => info.name),
      ['tea'],
    );
    assert.ok(await accounts.getOrganization('wonderland'));
    await registry.delete(repo.info.owner, repo.info.name);
    await deleteOrganization({ accounts, registry, kv }, org);
    assert.equal(await accounts.getOrganization('wonderland'), undefined);
    await deleteUser({ accounts, registry, kv }, bob);
    assert.equal(await accounts.getUser('bob'), undefined);
  });

  test('the display name is the full name when there is one', async () => {
    assert.equal(ownerDisplayName((await accounts.getOwner('alice'))!), 'Alice Liddell');
    assert.equal(ownerDisplayName((await accounts.getOwner('wonderland'))!), 'Wonderland');
  });
});

describe('one map from errors to answers', () => {
  const cases: Array<[string, Error, number, number]> = [
    ['no such owner', new OwnerNotFound('x'), 404, EXIT.notFound],
    ['no such revision', new RevisionNotFound('x'), 404, EXIT.notFound],
    ['a name taken', new AccountConflict('x'), 409, EXIT.conflict],
    ['an invalid name', new InvalidRepositoryName('x'), 422, EXIT.usage],
    ['an owner of repositories', new OwnerHasRepositories('user', 'x', []), 422, EXIT.conflict],
    ['a creation refused', new CreationRefused('x', 'y'), 403, EXIT.failure],
  ];
  for (const [what, error, status, exit] of cases) {
    test(`${what}: HTTP ${status}, exit ${exit}`, () => {
      assert.equal(httpStatusOf(error), status);
      assert.equal(cliErrorFor(error)?.exitCode, exit);
      assert.equal(cliErrorFor(error)?.message, error.message);
    });
  }

  test('a full store is 507, but not under a change that committed and could not be journaled', () => {
    const full = new StorageFull('blob store /data/objects: no space left to write blob journal/x', {
      cause: Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }),
    });
    assert.equal(httpStatusOf(full), 507);
    assert.equal(httpStatusOf(new Error('creating a repository', { cause: full })), 507);
    assert.doesNotMatch(refusalMessage(full), /\/data|ENOSPC|nothing was changed/);
    assert.equal(cliErrorFor(full)?.exitCode, EXIT.failure);
    // The registry moved; its journal entry could not be written: the outcome is unknown, not "no room".
    const unjournaled = new JournalWriteError('registry transaction 7 is committed but its journal entry could not be written', {
      cause: full,
    });
    assert.equal(httpStatusOf(unjournaled), undefined);
    assert.equal(httpStatusOf(new WriteOutcomeUnknown('applied, not durable', { cause: full })), 503);
  });

  test('an HttpError keeps its status, a surface may answer a kind otherwise, a fault has no status', () => {
    assert.equal(httpStatusOf(new HttpError(429, 'slow down')), 429);
    assert.equal(httpStatusOf(new InvalidRepositoryName('x'), { invalid: 404 }), 404);
    assert.equal(httpStatusOf(new Error('disk on fire')), undefined);
    assert.equal(cliErrorFor(new Error('disk on fire')), undefined);
  });
});
