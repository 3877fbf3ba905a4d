import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryBlobStore } from '@gitfleet/storage';
import {
  BlockCache,
  InvalidRefName,
  InvalidRepositoryName,
  RepositoryExists,
  RepositoryRegistry,
  validateRepositoryName,
  type Stores,
} from '../src/index.js';
import { kvBackends, redisKvBackends } from '@gitfleet/test-support/stores';

for (const backend of [...kvBackends, ...redisKvBackends]) {
  describe(`RepositoryRegistry over ${backend.name}`, () => {
    const open = (t: Parameters<typeof backend.open>[0]): { registry: RepositoryRegistry; stores: Stores } => {
      const stores: Stores = {
        blobs: new MemoryBlobStore(),
        kv: backend.open(t),
        cache: new BlockCache({ blockSize: 4096, maxBytes: 65536 }),
      };
      return { registry: new RepositoryRegistry(stores), stores };
    };

    test('create gives an empty repository whose HEAD is refs/heads/main; open finds it', async (t) => {
      const { registry } = open(t);
      const created = await registry.create('octo', 'hello.world');
      assert.match(created.info.id, /^[0-9a-f]{32}$/);
      assert.equal(created.info.owner, 'octo');
      assert.equal(created.info.name, 'hello.world');
      assert.equal(await created.refs.head(), 'refs/heads/main');
      assert.deepEqual(await created.refs.list(), []);
      assert.deepEqual(await created.packs.list(), []);
      const opened = await registry.open('octo', 'hello.world');
      assert.deepEqual(opened?.info, created.info);
      assert.equal(await opened.refs.head(), 'refs/heads/main');
      assert.equal(await registry.open('octo', 'other'), undefined);
    });

    test('defaultBranch sets HEAD; a bad one is refused', async (t) => {
      const { registry } = open(t);
      const repo = await registry.create('o', 'r', { defaultBranch: 'trunk' });
      assert.equal(await repo.refs.head(), 'refs/heads/trunk');
      await assert.rejects(registry.create('o', 'r2', { defaultBranch: 'a..b' }), InvalidRefName);
      assert.equal(await registry.open('o', 'r2'), undefined);
    });

    test('a name is taken once, whatever its case; each repository gets its own id', async (t) => {
      const { registry } = open(t);
      const first = await registry.create('Octo', 'Repo');
      await assert.rejects(registry.create('Octo', 'Repo'), RepositoryExists);
      await assert.rejects(registry.create('octo', 'repo'), RepositoryExists);
      assert.equal((await registry.open('OCTO', 'repo'))?.info.id, first.info.id);
      const second = await registry.create('octo', 'repo2');
      assert.notEqual(second.info.id, first.info.id);
      assert.deepEqual(
        (await registry.list()).map((r) => `${r.owner}/${r.name}`),
        ['Octo/Repo', 'octo/repo2'],
      );
    });

    test('concurrent creates of one name: exactly one succeeds', async (t) => {
      const { registry } = open(t);
      const results = await Promise.allSettled(Array.from({ length: 10 }, () => registry.create('o', 'race')));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof RepositoryExists);
    });

    test('visibility and description: given at create, defaults public and empty, old entries read as public', async (t) => {
      const { registry, stores } = open(t);
      const plain = await registry.create('o', 'plain');
      assert.equal(plain.info.private, false);
      assert.equal(plain.info.description, '');
      const secret = await registry.create('o', 'secret', { private: true, description: 'hidden things' });
      assert.deepEqual((await registry.open('o', 'secret'))?.info, secret.info);
      assert.equal(secret.info.private, true);
      assert.equal(secret.info.description, 'hidden things');

      const old = { id: 'f'.repeat(32), owner: 'o', name: 'old', createdAt: '2020-01-01T00:00:00.000Z' };
      await stores.kv.compareAndSwap('registry', [{ key: 'repo:o/old', expect: null, value: JSON.stringify(old) }], 'all');
      assert.deepEqual((await registry.open('o', 'old'))?.info, { ...old, private: false, description: '' });
    });

    test('update changes visibility and description, keeps the rest; a missing repository gives undefined', async (t) => {
      const { registry } = open(t);
      const created = await registry.create('o', 'r', { description: 'first' });
      const updated = await registry.update('O', 'R', { private: true });
      assert.deepEqual(updated?.info, { ...created.info, private: true });
      const described = await registry.update('o', 'r', { description: 'second' });
      assert.deepEqual(described?.info, { ...created.info, private: true, description: 'second' });
      assert.deepEqual((await registry.open('o', 'r'))?.info, described?.info);
      assert.equal(await registry.update('o', 'missing', { private: true }), undefined);
      await assert.rejects(registry.update('o', 'r', { name: '../x' }), InvalidRepositoryName);
      assert.deepEqual((await registry.open('o', 'r'))?.info, described?.info);
    });

    test('rename moves the entry and keeps id, refs and HEAD; an existing target is refused and nothing changes', async (t) => {
      const { registry } = open(t);
      const created = await registry.create('o', 'before', { defaultBranch: 'trunk' });
      await created.refs.update([{ name: 'refs/heads/trunk', oldOid: '0'.repeat(40), newOid: 'a'.repeat(40) }], {
        atomic: true,
        message: 'test',
      });
      await registry.create('o', 'taken');

      await assert.rejects(registry.update('o', 'before', { name: 'Taken' }), RepositoryExists);
      assert.equal((await registry.open('o', 'before'))?.info.id, created.info.id);

      const renamed = await registry.update('o', 'before', { name: 'after', description: 'moved' });
      assert.deepEqual(renamed?.info, { ...created.info, name: 'after', description: 'moved' });
      assert.equal(await registry.open('o', 'before'), undefined);
      const reopened = await registry.open('o', 'after');
      assert.equal(reopened?.info.id, created.info.id);
      assert.equal(await reopened.refs.head(), 'refs/heads/trunk');
      assert.deepEqual(
        (await reopened.refs.list()).map((r) => [r.name, r.oid]),
        [['refs/heads/trunk', 'a'.repeat(40)]],
      );

      // Changing only the case keeps the key and rewrites the spelling.
      const recased = await registry.update('o', 'after', { name: 'After' });
      assert.equal(recased?.info.name, 'After');
      assert.deepEqual(
        (await registry.list()).map((r) => `${r.owner}/${r.name}`),
        ['o/After', 'o/taken'],
      );
    });

    test('transfer moves the entry to another owner, with or without a new name, and keeps id and refs', async (t) => {
      const { registry } = open(t);
      const created = await registry.create('old', 'project', { defaultBranch: 'trunk' });
      await created.refs.update([{ name: 'refs/heads/trunk', oldOid: '0'.repeat(40), newOid: 'b'.repeat(40) }], {
        atomic: true,
        message: 'test',
      });

      const moved = await registry.update('old', 'project', { owner: 'new' });
      assert.deepEqual(moved?.info, { ...created.info, owner: 'new' });
      assert.equal(await registry.open('old', 'project'), undefined);
      assert.deepEqual(await registry.listOwnedBy('old'), []);
      assert.deepEqual(await registry.listOwnedBy('new'), [moved?.info]);
      const reopened = await registry.open('new', 'project');
      assert.equal(reopened?.info.id, created.info.id);
      assert.equal(await reopened.refs.head(), 'refs/heads/trunk');
      assert.deepEqual(
        (await reopened.refs.list()).map((r) => [r.name, r.oid]),
        [['refs/heads/trunk', 'b'.repeat(40)]],
      );

      const renamedToo = await registry.update('new', 'project', { owner: 'third', name: 'renamed' });
      assert.deepEqual(renamedToo?.info, { ...created.info, owner: 'third', name: 'renamed' });
      assert.deepEqual(
        (await registry.list()).map((r) => `${r.owner}/${r.name}`),
        ['third/renamed'],
      );
    });

    test('a transfer onto a taken name is refused and nothing changes; invalid owners are refused', async (t) => {
      const { registry } = open(t);
      const created = await registry.create('old', 'project');
      await registry.create('new', 'Project');
      await assert.rejects(registry.update('old', 'project', { owner: 'NEW' }), (error: Error) => {
        assert.ok(error instanceof RepositoryExists);
        assert.equal(error.owner, 'NEW');
        assert.equal(error.repositoryName, 'project');
        return true;
      });
      await assert.rejects(registry.update('old', 'project', { owner: '../etc' }), InvalidRepositoryName);
      await assert.rejects(registry.update('old', 'project', { owner: 'new', name: 'bad/name' }), InvalidRepositoryName);
      assert.deepEqual((await registry.open('old', 'project'))?.info, created.info);
      assert.deepEqual(
        (await registry.list()).map((r) => `${r.owner}/${r.name}`),
        ['new/Project', 'old/project'],
      );
    });

    test('concurrent transfers of one repository onto one owner: exactly one lands', async (t) => {
      const { registry } = open(t);
      await registry.create('a', 'r');
      await registry.create('b', 'r');
      const outcomes = await Promise.allSettled([registry.update('a', 'r', { owner: 'c' }), registry.update('b', 'r', { owner: 'c' })]);
      assert.deepEqual(outcomes.map((outcome) => outcome.status).sort(), ['fulfilled', 'rejected']);
      const refused = outcomes.find((outcome) => outcome.status === 'rejected');
      assert.ok(refused?.reason instanceof RepositoryExists);
      const names = (await registry.list()).map((r) => `${r.owner}/${r.name}`);
      assert.equal(names.length, 2);
      assert.equal(names[1], 'c/r');
      assert.ok(names[0] === 'a/r' || names[0] === 'b/r', `one of the two stays where it was: ${names.join(', ')}`);
    });

    test('concurrent updates of one entry all land', async (t) => {
      const { registry } = open(t);
      await registry.create('o', 'r');
      await Promise.all([registry.update('o', 'r', { private: true }), registry.update('o', 'r', { description: 'd' })]);
      const info = (await registry.open('o', 'r'))!.info;
      assert.equal(info.private, true);
      assert.equal(info.description, 'd');
    });

    test('delete removes the entry and every key of the repository scope; the name can be reused', async (t) => {
      const { registry, stores } = open(t);
      const doomed = await registry.create('o', 'doomed');
      await doomed.refs.update([{ name: 'refs/heads/main', oldOid: '0'.repeat(40), newOid: 'b'.repeat(40) }], {
        atomic: true,
        message: 'test',
      });
      const kept = await registry.create('o', 'kept');
      assert.notDeepEqual(await stores.kv.scan(`repo:${doomed.info.id}`, ''), []);

      assert.equal(await registry.delete('O', 'Doomed'), true);
      assert.equal(await registry.open('o', 'doomed'), undefined);
      assert.deepEqual(await stores.kv.scan(`repo:${doomed.info.id}`, ''), []);
      assert.equal(await registry.delete('o', 'doomed'), false);
      assert.equal(await (await registry.open('o', 'kept'))!.refs.head(), 'refs/heads/main');

      const reborn = await registry.create('o', 'doomed');
      assert.notEqual(reborn.info.id, doomed.info.id);
      assert.deepEqual(await reborn.refs.list(), []);
      assert.deepEqual(
        (await registry.list()).map((r) => r.id),
        [reborn.info.id, kept.info.id],
      );
    });

    test('listOwnedBy lists one owner, whatever the case, and not owners sharing a prefix', async (t) => {
      const { registry } = open(t);
      await registry.create('Octo', 'b');
      await registry.create('octo', 'a');
      await registry.create('octopus', 'c');
      await registry.create('other', 'd');
      assert.deepEqual(
        (await registry.listOwnedBy('OCTO')).map((r) => `${r.owner}/${r.name}`),
        ['octo/a', 'Octo/b'],
      );
      assert.deepEqual(await registry.listOwnedBy('nobody'), []);
      await assert.rejects(registry.listOwnedBy('../x'), InvalidRepositoryName);
    });

    test('open and create refuse invalid names', async (t) => {
      const { registry } = open(t);
      await assert.rejects(registry.create('o', '../etc'), InvalidRepositoryName);
      await assert.rejects(registry.open('..', 'r'), InvalidRepositoryName);
      assert.deepEqual(await registry.list(), []);
    });
  });
}

describe('validateRepositoryName', () => {
  test('accepts ordinary names', () => {
    for (const [owner, name] of [
      ['o', 'r'],
      ['octo-cat', 'hello_world.js'],
      ['A1', 'x'.repeat(100)],
      ['o', 'info'],
      ['o', 'a.b-c_d'],
      ['o', 'git'],
    ]) {
      assert.doesNotThrow(() => validateRepositoryName(owner, name), `${owner}/${name}`);
    }
  });

  test('refuses traversal, separators, control characters and the rest', () => {
    const bad = [
      '',
      '.',
      '..',
      '.hidden',
      '-dash',
      'a/b',
      'a\\b',
      'a\0b',
      'a\nb',
      'a b',
      'x'.repeat(101),
      'r.git',
      'R.GIT',
      'a..b',
      'ünï',
      '%2e%2e',
      'a:b',
    ];
    for (const value of bad) {
      assert.throws(() => validateRepositoryName('o', value), InvalidRepositoryName, `name ${JSON.stringify(value)}`);
      assert.throws(() => validateRepositoryName(value, 'r'), InvalidRepositoryName, `owner ${JSON.stringify(value)}`);
    }
    assert.throws(() => validateRepositoryName(undefined as unknown as string, 'r'), InvalidRepositoryName);
  });
});
