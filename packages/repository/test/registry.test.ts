import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryBlobStore } from '@gitfleet/storage';
import { BlockCache, InvalidRefName, InvalidRepositoryName, RepositoryExists, RepositoryRegistry, validateRepositoryName, type Stores } from '../src/index.js';
import { kvBackends } from './kv-backends.js';

for (const backend of kvBackends) {
  describe(`RepositoryRegistry over ${backend.name}`, () => {
    const open = (t: Parameters<typeof backend.open>[0]): { registry: RepositoryRegistry; stores: Stores } => {
      const stores: Stores = { blobs: new MemoryBlobStore(), kv: backend.open(t), cache: new BlockCache({ blockSize: 4096, maxBytes: 65536 }) };
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
      assert.deepEqual(await created.objects.packs(), []);
      const opened = await registry.open('octo', 'hello.world');
      assert.deepEqual(opened?.info, created.info);
      assert.equal(await opened!.refs.head(), 'refs/heads/main');
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
      assert.deepEqual((await registry.list()).map((r) => `${r.owner}/${r.name}`), ['Octo/Repo', 'octo/repo2']);
    });

    test('concurrent creates of one name: exactly one succeeds', async (t) => {
      const { registry } = open(t);
      const results = await Promise.allSettled(Array.from({ length: 10 }, () => registry.create('o', 'race')));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof RepositoryExists);
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
    const bad = ['', '.', '..', '.hidden', '-dash', 'a/b', 'a\\b', 'a\0b', 'a\nb', 'a b', 'x'.repeat(101), 'r.git', 'R.GIT', 'a..b', 'ünï', '%2e%2e', 'a:b'];
    for (const value of bad) {
      assert.throws(() => validateRepositoryName('o', value), InvalidRepositoryName, `name ${JSON.stringify(value)}`);
      assert.throws(() => validateRepositoryName(value, 'r'), InvalidRepositoryName, `owner ${JSON.stringify(value)}`);
    }
    assert.throws(() => validateRepositoryName(undefined as unknown as string, 'r'), InvalidRepositoryName);
  });
});
