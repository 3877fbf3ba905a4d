import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommitGraph, writeCommitGraph } from '@gitfleet/git-format';
import { MemoryBlobStore, MemoryKVStore } from '@gitfleet/storage';
import {
  CommitReader,
  FilterSpecError,
  Repository,
  enumerateObjects,
  parseFilterSpec,
  unreachableCommits,
  walkCommits,
  type ObjectReader,
} from '../src/index.js';
import { caches } from './backends.js';
import { git } from '@gitfleet/test-support/git';
import { buildHistory } from '@gitfleet/test-support/histories';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { packObjects } from './git-fixtures.js';

async function repositoryOf(t: { after(fn: () => void): void }, commits: number) {
  const dir = tempDir(t, 'reach');
  const source = buildHistory(dir, commits);
  const repo = new Repository(
    { id: `reach-${Math.random()}`, owner: 'o', name: 'r', createdAt: '', private: false, description: '' },
    { blobs: new MemoryBlobStore(), kv: new MemoryKVStore(), ...caches() },
  );
  const pack = packObjects(source, dir, ['--all'], { offsetDeltas: true });
  await repo.packs.add(pack.packPath, pack.packSize, pack.idx, pack.checksum);
  const rev = (name: string) => git(source, ['rev-parse', name]).toString().trim();
  const revList = (args: string[]) =>
    new Set(
      git(source, ['rev-list', ...args])
        .toString()
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => l.slice(0, 40)),
    );
  return { repo, rev, revList };
}

test('walkCommits selects what git rev-list A --not B selects, newest first', async (t) => {
  const { repo, rev, revList } = await repositoryOf(t, 20);
  const reader = new CommitReader(repo.objects);
  const walk = await walkCommits(reader, { include: [rev('main')], exclude: [rev('main~7')] });
  assert.deepEqual(new Set(walk.commits), revList(['main', '^main~7']));
  assert.equal(walk.commits[0], rev('main'));
  assert.deepEqual(walk.edges, [rev('main~7')]);
  const bounded = { include: [rev('main')], exclude: [rev('main~7')] };
  assert.deepEqual(new Set((await walkCommits(reader, { ...bounded, maxSelected: 7 })).commits), revList(['main', '^main~7']));
  assert.deepEqual(await walkCommits(reader, { ...bounded, maxSelected: 6 }), { commits: [], edges: [], exceeded: true });
  assert.deepEqual(await unreachableCommits(reader, [rev('main~3')], [rev('main')]), []);
  assert.deepEqual(await unreachableCommits(reader, [rev('main')], [rev('main~3')]), [rev('main')]);
});

test('enumerateObjects lists rev-list --objects, leaving out what the haves reach', async (t) => {
  const { repo, rev, revList } = await repositoryOf(t, 12);
  const all = await enumerateObjects(repo.objects, { wants: [rev('main'), rev('v1')], haves: [] });
  assert.deepEqual(new Set(all.objects), revList(['--objects', 'main', 'v1']));
  const incremental = await enumerateObjects(repo.objects, { wants: [rev('main')], haves: [rev('main~4')] });
  assert.deepEqual(new Set(incremental.objects), revList(['--objects', 'main', '^main~4']));
  assert.ok(incremental.clientHas.has(rev('main~4^{tree}')));
  const noBlobs = await enumerateObjects(repo.objects, { wants: [rev('main')], haves: [], filter: parseFilterSpec('blob:none') });
  assert.deepEqual(new Set(noBlobs.objects), revList(['--objects', '--filter=blob:none', 'main']));
});

test('enumerateObjects applies tree depth and blob size filters as git rev-list does', async (t) => {
  const { repo, rev, revList } = await repositoryOf(t, 12);
  for (const spec of ['tree:0', 'tree:1', 'tree:2', 'blob:limit=1k', 'combine:tree:2+blob:limit=100']) {
    const filtered = await enumerateObjects(repo.objects, { wants: [rev('main')], haves: [], filter: parseFilterSpec(spec) });
    assert.deepEqual(new Set(filtered.objects), revList(['--objects', `--filter=${spec}`, 'main']), spec);
  }
  const incremental = await enumerateObjects(repo.objects, {
    wants: [rev('main')],
    haves: [rev('main~4')],
    filter: parseFilterSpec('blob:none'),
  });
  assert.deepEqual(new Set(incremental.objects), revList(['--objects', '--filter=blob:none', 'main', '^main~4']));
});

test('parseFilterSpec accepts git filter specs and refuses others', () => {
  assert.deepEqual(parseFilterSpec('blob:limit=2k'), { kind: 'blob:limit', limit: 2048 });
  assert.deepEqual(parseFilterSpec('tree:3'), { kind: 'tree', depth: 3 });
  assert.deepEqual(parseFilterSpec('combine:blob:none+tree:1'), {
    kind: 'combine',
    filters: [{ kind: 'blob:none' }, { kind: 'tree', depth: 1 }],
  });
  for (const bad of ['blob:some', 'sparse:oid=abc', 'object:type=thing', 'combine:blob:none', 'tree:-1']) {
    assert.throws(() => parseFilterSpec(bad), FilterSpecError, bad);
  }
});

test("CommitReader answers from the repository's commit-graph without reading commits or peeling through the packs; walks through it select what git selects", async (t) => {
  const { repo, rev, revList } = await repositoryOf(t, 20);
  const oids = [...revList(['--all'])];
  const fromPacks = new CommitReader(repo.objects);
  const inputs = await Promise.all(
    oids.map(async (oid) => {
      const { tree, parents, time } = await fromPacks.commit(oid, 'test');
      return { oid, tree, parents, commitTime: time };
    }),
  );
  const graph = CommitGraph.parse(writeCommitGraph(inputs));
  // Objects that hold nothing: every commit the reader returns came from the graph.
  const nothing: ObjectReader = {
    has: async () => false,
    header: async () => undefined,
    type: async () => undefined,
    read: async () => undefined,
  };
  const fromGraph = new CommitReader(nothing, undefined, { commitGraph: async () => graph });
  // The graph answers as the packs do, with each commit's topological level besides.
  const parentsOf = new Map(inputs.map((input) => [input.oid, input.parents]));
  const level = (oid: string): number => 1 + Math.max(0, ...parentsOf.get(oid)!.map(level));
  for (const input of inputs) {
    assert.deepEqual(await fromGraph.tryCommit(input.oid), { ...(await fromPacks.tryCommit(input.oid)), generation: level(input.oid) });
  }
  assert.equal(await fromGraph.tryCommit(rev('main^{tree}')), undefined, 'not in the graph, not readable');
  // Peeling a ref to a commit (what every ref advertisement does) needs no object read either.
  assert.deepEqual(await new CommitReader(nothing, undefined, { commitGraph: async () => graph }).peel(rev('main')), {
    oid: rev('main'),
    type: 'commit',
    chain: [],
  });
  const walk = await walkCommits(fromGraph, { include: [rev('main')], exclude: [rev('main~7')] });
  assert.deepEqual(new Set(walk.commits), revList(['main', '^main~7']));
});
