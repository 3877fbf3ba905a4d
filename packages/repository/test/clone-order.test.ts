import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { writeCommitGraph, type ObjectType } from '@gitfleet/git-format';
import { git, gitText } from '@gitfleet/test-support/git';
import { buildSourceRepo } from '@gitfleet/test-support/histories';
import { catFile } from '@gitfleet/test-support/packs';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { cloneOrder } from '../src/maintenance/clone-order.js';
import { rewritePack } from '../src/maintenance/pack-rewrite.js';
import type { ObjectSelection } from '../src/maintenance/selection.js';
import { packObjects, verifyPack, type BuiltPack } from './git-fixtures.js';
import { gitAccepts, readsBack, repositoryWith, rewriteBackends } from './pack-rewrite-checks.js';

const workDir = tempDir({ after }, 'clone-order');
let source: string;
/** Every ref but `side`: the tips to repack from. */
let tips: Array<{ name: string; oid: string }>;
let older: BuiltPack;
/** The rest, with the objects only `side` reaches. */
let newer: BuiltPack;
let types: Map<string, { type: ObjectType; data: Buffer }>;

before(() => {
  source = buildSourceRepo(workDir, 40);
  // A branch whose objects nothing else reaches: left out of the tips, they are unreachable.
  const blob = gitText(source, ['hash-object', '-w', '--stdin'], 'only on the side branch\n');
  const tree = gitText(source, ['mktree'], `100644 blob ${blob}\tside.txt\n`);
  const commit = gitText(source, ['commit-tree', tree, '-p', 'main', '-m', 'side'], undefined, {
    GIT_COMMITTER_DATE: '1800000000 +0000',
  });
  git(source, ['update-ref', 'refs/heads/side', commit]);
  tips = gitText(source, ['for-each-ref', '--format=%(refname) %(objectname)'])
    .split('\n')
    .map((line) => line.split(' '))
    .filter(([name]) => name !== 'refs/heads/side')
    .map(([name, oid]) => ({ name, oid }));
  const dir = (name: string) => {
    const at = path.join(workDir, name);
    mkdirSync(at);
    return at;
  };
  older = packObjects(source, dir('older'), ['main~8'], { offsetDeltas: true });
  newer = packObjects(source, dir('newer'), ['--all', '^main~8'], { offsetDeltas: false });
  types = catFile(source, gitText(source, ['cat-file', '--batch-all-objects', '--batch-check=%(objectname)']).split('\n'));
});

function oids(selection: ObjectSelection): string[] {
  return Array.from({ length: selection.count }, (_, i) => selection.oid(i));
}

const RANK: Record<ObjectType, number> = { commit: 0, tag: 1, tree: 2, blob: 3 };

for (const backend of rewriteBackends) {
  describe(`clone order over ${backend.name}`, () => {
    test('lists commits newest first as rev-list does, then tags, trees and blobs in the order git walks them', async (t) => {
      const stores = await backend.open(t);
      const repo = await repositoryWith(stores, [older, newer], 'cloneorder');
      const tipOids = tips.map((tip) => tip.oid);
      const { reachable, unreachable, commits } = await cloneOrder(repo, { clone: tipOids, rest: [] }, [older.checksum, newer.checksum]);

      const order = oids(reachable);
      const walked = gitText(source, ['rev-list', '--objects', ...tipOids])
        .split('\n')
        .map((line) => line.slice(0, 40));
      assert.deepEqual(new Set(order), new Set(walked), 'what rev-list --objects lists');
      assert.equal(order.length, walked.length, 'each once');
      const ofType = (type: ObjectType, list: string[]) => list.filter((oid) => types.get(oid)!.type === type);
      assert.deepEqual(ofType('commit', order), gitText(source, ['rev-list', ...tipOids]).split('\n'), 'commits as rev-list orders them');
      assert.deepEqual(ofType('tree', order), ofType('tree', walked), 'trees as git walks them');
      assert.deepEqual(ofType('blob', order), ofType('blob', walked), 'blobs as git walks them');
      const ranks = order.map((oid) => RANK[types.get(oid)!.type]);
      assert.deepEqual(
        ranks,
        [...ranks].sort((a, b) => a - b),
        'commits, then tags, then trees, then blobs',
      );
      assert.ok(ofType('tag', order).length >= 3, 'the annotated tags, the tag of a tag and the tag of a tree');
      for (let i = 0; i < reachable.count; i++) {
        const stored = await repo.packs.locate(reachable.oid(i));
        assert.deepEqual([reachable.pack(i), reachable.offsets[i]], [stored!.pack, stored!.offset], 'a stored copy');
      }

      const inPacks = new Set([...verifyPack(older), ...verifyPack(newer)].map((o) => o.oid));
      const reached = new Set(order);
      assert.deepEqual(new Set(oids(unreachable)), new Set([...inPacks].filter((oid) => !reached.has(oid))));
      const sideOnly = gitText(source, ['rev-list', '--objects', 'side', '--not', ...tipOids]).split('\n');
      assert.deepEqual(new Set(oids(unreachable)), new Set(sideOnly.map((line) => line.slice(0, 40))));

      // The reachable pack is complete: git finds every object each ref reaches in it.
      const written = await rewritePack(repo.packs, reachable, { path: path.join(workDir, `reachable-${backend.name}.pack`) });
      const accepted = gitAccepts(written, workDir);
      for (const tip of tips) git(accepted.repo, ['update-ref', tip.name, tip.oid]);
      git(accepted.repo, ['fsck', '--full', '--strict', '--no-dangling']);
      // The commit-graph of the reachable commits is one git checks and reads as its own.
      assert.deepEqual(new Set(commits.map((c) => c.oid)), new Set(ofType('commit', order)));
      writeFileSync(path.join(accepted.repo, 'objects/info/commit-graph'), writeCommitGraph(commits));
      git(accepted.repo, ['commit-graph', 'verify']);
      assert.equal(
        gitText(accepted.repo, ['rev-list', '--all']),
        gitText(accepted.repo, ['-c', 'core.commitGraph=false', 'rev-list', '--all']),
      );
      assert.equal(gitText(accepted.repo, ['rev-list', '--objects', '--all']).split('\n').length, walked.length);
      assert.equal(accepted.objects.filter((o) => o.baseOid).length > reachable.count / 4, true, 'deltas stay deltas');
      const expected = new Map([...types].filter(([oid]) => reached.has(oid)));
      assert.equal(await readsBack(written, await backend.open(t), expected), reachable.count);

      const cruft = await rewritePack(repo.packs, unreachable, { path: path.join(workDir, `cruft-${backend.name}.pack`) });
      assert.equal(gitAccepts(cruft, workDir).objects.length, unreachable.count);
    });

    test('puts what only the other refs reach in a layer of its own, in the same order, one git indexes on its own', async (t) => {
      const stores = await backend.open(t);
      const repo = await repositoryWith(stores, [older, newer], 'cloneorder-layers');
      const cloneTips = tips.map((tip) => tip.oid);
      const side = gitText(source, ['rev-parse', 'refs/heads/side']);
      const layered = await cloneOrder(repo, { clone: cloneTips, rest: [side] }, [older.checksum, newer.checksum]);
      const alone = await cloneOrder(repo, { clone: cloneTips, rest: [] }, [older.checksum, newer.checksum]);

      assert.deepEqual(oids(layered.reachable), oids(alone.reachable), 'the clone layer as without other refs');
      const sideOnly = gitText(source, ['rev-list', '--objects', side, '--not', ...cloneTips])
        .split('\n')
        .map((line) => line.slice(0, 40));
      assert.deepEqual(oids(layered.rest), sideOnly, 'what only the other ref reaches, in the order git walks it');
      assert.equal(layered.unreachable.count, 0, 'nothing left for the cruft');
      assert.deepEqual(
        new Set(layered.commits.map((c) => c.oid)),
        new Set(gitText(source, ['rev-list', ...cloneTips, side]).split('\n')),
        'the commit-graph has every reachable commit',
      );
      const rest = await rewritePack(repo.packs, layered.rest, { path: path.join(workDir, `rest-${backend.name}.pack`) });
      assert.equal(gitAccepts(rest, workDir).objects.length, layered.rest.count, 'git indexes the layer on its own');
    });

    test('a rest layer written beside its clone pack keeps its deltas on objects of that pack, read back through both', async (t) => {
      const stores = await backend.open(t);
      const repo = await repositoryWith(stores, [older, newer], 'cloneorder-bases');
      // An old commit as the only clone tip: most of the history is the other layer's, and much of it deltas against the clone layer.
      const cloneTip = gitText(source, ['rev-parse', 'main~20']);
      const layered = await cloneOrder(repo, { clone: [cloneTip], rest: tips.map((tip) => tip.oid) }, [older.checksum, newer.checksum]);
      const main = await rewritePack(repo.packs, layered.reachable, { path: path.join(workDir, `bases-main-${backend.name}.pack`) });
      const rest = await rewritePack(repo.packs, layered.rest, {
        path: path.join(workDir, `bases-rest-${backend.name}.pack`),
        deltaBasesIn: main.order,
      });
      assert.ok(rest.stats.deltasOnOtherPack > 0, JSON.stringify(rest.stats));
      assert.equal(rest.stats.recompressed, 0, JSON.stringify(rest.stats));
      const alone = await rewritePack(repo.packs, layered.rest, { path: path.join(workDir, `bases-alone-${backend.name}.pack`) });
      assert.equal(alone.stats.deltasOnOtherPack, 0);
      assert.ok(rest.size < alone.size, `${rest.size} bytes with deltas on the clone pack, ${alone.size} without`);

      const both = await repositoryWith(
        await backend.open(t),
        [main, rest].map((pack) => ({ packPath: pack.path, packSize: pack.size, idx: pack.idx, checksum: pack.checksum })),
        'cloneorder-both',
      );
      for (const oid of oids(layered.rest)) {
        const got = await both.objects.read(oid);
        const want = types.get(oid)!;
        assert.equal(got?.type, want.type, oid);
        assert.ok(got.data.equals(want.data), `content of ${oid}`);
      }
    });
  });
}
