import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ObjectType } from '@gitfleet/git-format';
import { git } from '@gitfleet/test-support/git';
import { buildHistory } from '@gitfleet/test-support/histories';
import { catFile } from '@gitfleet/test-support/packs';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { objectsOfPacks } from '../src/maintenance/objects-of-packs.js';
import { MAX_REWRITE_DELTA_DEPTH, rewritePack } from '../src/maintenance/pack-rewrite.js';
import { selectionOf, type StoredObject } from '../src/maintenance/selection.js';
import { packObjects, verifyPack, type BuiltPack, type PackedObject } from './git-fixtures.js';
import { gitAccepts, readsBack, repositoryWith, writtenOrder, rewriteBackends } from './pack-rewrite-checks.js';

const workDir = tempDir({ after }, 'pack-rewrite');
let source: string;
/** main~30 and what it reaches: ofs-deltas. */
let older: BuiltPack;
/** Everything newer, pushed as a thin pack: ref-deltas, some against bases `older` has too, appended after them. */
let newer: BuiltPack;
/** Every object again (duplicates of both packs above), ofs-deltas at most 10 deep. */
let everything: BuiltPack;
/** Every object, delta chains far deeper than git's default bound. */
let deep: BuiltPack;
let expected: Map<string, { type: ObjectType; data: Buffer }>;

function outDir(name: string): string {
  const dir = path.join(workDir, name);
  mkdirSync(dir);
  return dir;
}

/**
 * A thin pack of `revs` completed as receive-pack completes one: ref-deltas, the bases they
 * lack (objects of older packs) appended after them.
 */
function completedThinPack(repo: string, dir: string, revs: string[]): BuiltPack {
  const thin = git(
    repo,
    ['pack-objects', '--revs', '--thin', '--stdout', '--quiet', '--no-reuse-delta', '--window=50'],
    revs.join('\n') + '\n',
  );
  const packPath = path.join(dir, 'completed.pack');
  const checksum = git(repo, ['index-pack', '--stdin', '--fix-thin', packPath], thin)
    .toString()
    .replace(/^pack\s+/, '')
    .trim();
  return { packPath, packSize: statSync(packPath).size, idx: readFileSync(packPath.replace(/\.pack$/, '.idx')), checksum };
}

before(() => {
  source = buildHistory(workDir, 80);
  older = packObjects(source, outDir('older'), ['main~30'], { offsetDeltas: true });
  newer = completedThinPack(source, outDir('newer'), ['main', 'v1', '^main~30']);
  everything = packObjects(source, outDir('everything'), ['--all'], { offsetDeltas: true, depth: 10 });
  deep = packObjects(source, outDir('deep'), ['--all'], { offsetDeltas: true, depth: 500 });
  expected = catFile(
    source,
    verifyPack(everything).map((o) => o.oid),
  );
});

/** The pack's objects as stored copies, in the order `git verify-pack` lists them (pack order). */
function storedObjects(pack: BuiltPack): Array<StoredObject & PackedObject> {
  return verifyPack(pack).map((o) => ({ ...o, pack: pack.checksum }));
}

const maxDepth = (objects: PackedObject[]): number => Math.max(0, ...objects.map((o) => o.depth));

for (const backend of rewriteBackends) {
  describe(`pack rewrite over ${backend.name}`, () => {
    const orders = [
      { name: 'the thin pack first: its deltas before their appended bases', packs: () => [newer, older, everything] },
      {
        name: "the older pack first: the thin pack's deltas against bases taken from another pack",
        packs: () => [older, newer, everything],
      },
    ];
    for (const order of orders) {
      test(`compacts overlapping packs of ref- and ofs-deltas into one pack C git accepts; ${order.name}`, async (t) => {
        const stores = await backend.open(t);
        const repo = await repositoryWith(stores, [older, newer, everything], 'source');
        const inOlder = new Set(verifyPack(older).map((o) => o.oid));
        const appended = verifyPack(newer).filter((o) => inOlder.has(o.oid));
        assert.ok(appended.length > 0, 'completing the thin pack appended bases that older has too');
        assert.ok(
          verifyPack(newer).some((o) => o.baseOid && appended.some((b) => b.oid === o.baseOid && b.offset > o.offset)),
          'deltas come before their appended base',
        );

        const selection = await objectsOfPacks(
          repo.packs,
          order.packs().map((p) => p.checksum),
        );
        assert.equal(selection.count, expected.size, 'every object once');
        for (let i = 1; i < selection.count; i++) {
          if (selection.pack(i) === selection.pack(i - 1))
            assert.ok(selection.offsets[i] > selection.offsets[i - 1], 'each pack in stored order');
        }
        const progress: number[] = [];
        const written = await rewritePack(repo.packs, selection, {
          path: path.join(workDir, `compacted-${backend.name}-${orders.indexOf(order)}.pack`),
          onProgress: (done, total) => {
            assert.equal(total, expected.size);
            progress.push(done);
          },
        });
        assert.equal(written.objectCount, expected.size);
        assert.equal(progress.at(-1), expected.size);
        assert.equal(written.size, statSync(written.path).size);

        const { objects } = gitAccepts(written, workDir);
        assert.deepEqual(new Set(objects.map((o) => o.oid)), new Set(expected.keys()));
        const deltas = objects.filter((o) => o.baseOid);
        assert.ok(deltas.length > expected.size / 3, `stored deltas stay deltas (${deltas.length} of ${expected.size})`);
        assert.ok(maxDepth(objects) <= MAX_REWRITE_DELTA_DEPTH);
        // Entries of the new pack are where the order says, with the types git reads.
        const packOrder = writtenOrder(written);
        const byOffset = [...objects].sort((a, b) => a.offset - b.offset);
        assert.deepEqual(
          packOrder,
          byOffset.map((o) => o.oid),
        );
        assert.deepEqual(
          Array.from(written.order.offsets),
          byOffset.map((o) => o.offset),
        );
        const typeCodes: Record<string, number> = { commit: 1, tree: 2, blob: 3, tag: 4 };
        assert.deepEqual(
          Array.from(written.order.types),
          byOffset.map((o) => typeCodes[expected.get(o.oid)!.type]),
        );
        assert.equal(await readsBack(written, await backend.open(t), expected), expected.size);
      });
    }

    test('moves a delta base ahead of a delta that the requested order puts first, and keeps the rest of the order', async (t) => {
      const repo = await repositoryWith(await backend.open(t), [older], 'source');
      const stored = storedObjects(older);
      const bases = new Set(stored.filter((o) => o.baseOid).map((o) => o.baseOid!));
      const reversed = [...stored].reverse();
      const written = await rewritePack(repo.packs, selectionOf(reversed), { path: path.join(workDir, `reversed-${backend.name}.pack`) });

      const { objects } = gitAccepts(written, workDir);
      assert.equal(objects.filter((o) => o.baseOid).length, stored.filter((o) => o.baseOid).length, 'every delta stays a delta');
      const notBases = (oids: string[]) => oids.filter((oid) => !bases.has(oid));
      assert.deepEqual(notBases(writtenOrder(written)), notBases(reversed.map((o) => o.oid)));
      const position = new Map(writtenOrder(written).map((oid, i) => [oid, i]));
      for (const o of stored) if (o.baseOid) assert.ok(position.get(o.baseOid)! < position.get(o.oid)!, `base of ${o.oid} first`);
      const subset = new Map([...expected].filter(([oid]) => position.has(oid)));
      assert.equal(await readsBack(written, await backend.open(t), subset), stored.length);
    });

    test("writes a delta whose base is left out against the base's base, composing the two deltas", async (t) => {
      const repo = await repositoryWith(await backend.open(t), [older], 'source');
      const stored = storedObjects(older);
      // A base that is itself a delta, with deltas of its own.
      const left = stored.find((o) => o.baseOid && stored.some((d) => d.baseOid === o.oid))!;
      assert.ok(left, 'a delta that is also a base');
      const orphans = stored.filter((o) => o.baseOid === left.oid);
      const kept = stored.filter((o) => o.oid !== left.oid);
      const written = await rewritePack(repo.packs, selectionOf(kept), { path: path.join(workDir, `composed-${backend.name}.pack`) });

      const { objects } = gitAccepts(written, workDir);
      assert.equal(objects.length, kept.length);
      const byOid = new Map(objects.map((o) => [o.oid, o]));
      for (const orphan of orphans) assert.equal(byOid.get(orphan.oid)!.baseOid, left.baseOid, `${orphan.oid} against its base's base`);
      assert.deepEqual(written.stats, {
        copiedObjects: kept.length - stored.filter((o) => o.baseOid).length + 1,
        copiedDeltas: stored.filter((o) => o.baseOid).length - 1 - orphans.length,
        deltasOnOtherPack: 0,
        composedDeltas: orphans.length,
        recompressed: 0,
      });
      const subset = new Map([...expected].filter(([oid]) => byOid.has(oid)));
      assert.equal(await readsBack(written, await backend.open(t), subset), kept.length);
    });

    test("writes whole a delta whose base and base's base are both left out", async (t) => {
      const repo = await repositoryWith(await backend.open(t), [older], 'source');
      const stored = storedObjects(older);
      const left = stored.find((o) => o.baseOid && stored.some((d) => d.baseOid === o.oid))!;
      const orphans = stored.filter((o) => o.baseOid === left.oid);
      const kept = stored.filter((o) => o.oid !== left.oid && o.oid !== left.baseOid);
      const written = await rewritePack(repo.packs, selectionOf(kept), { path: path.join(workDir, `partial-${backend.name}.pack`) });

      const { objects } = gitAccepts(written, workDir);
      assert.equal(objects.length, kept.length);
      const byOid = new Map(objects.map((o) => [o.oid, o]));
      for (const orphan of orphans) assert.equal(byOid.get(orphan.oid)!.baseOid, undefined, `${orphan.oid} is whole`);
      assert.ok(written.stats.recompressed >= orphans.length);
      const subset = new Map([...expected].filter(([oid]) => byOid.has(oid)));
      assert.equal(await readsBack(written, await backend.open(t), subset), kept.length);
    });

    test(`keeps delta chains at most ${MAX_REWRITE_DELTA_DEPTH} deep`, async (t) => {
      const stored = verifyPack(deep);
      assert.ok(maxDepth(stored) > MAX_REWRITE_DELTA_DEPTH, `git built chains deeper than the bound (${maxDepth(stored)})`);
      const repo = await repositoryWith(await backend.open(t), [deep], 'source');
      const written = await rewritePack(repo.packs, await objectsOfPacks(repo.packs, [deep.checksum]), {
        path: path.join(workDir, `deep-${backend.name}.pack`),
      });
      const { objects } = gitAccepts(written, workDir);
      assert.equal(maxDepth(objects), MAX_REWRITE_DELTA_DEPTH);
      assert.equal(await readsBack(written, await backend.open(t), expected), expected.size);
    });

    test('an aborted rewrite leaves no file behind', async (t) => {
      const repo = await repositoryWith(await backend.open(t), [everything], 'source');
      const target = path.join(workDir, `aborted-${backend.name}.pack`);
      const controller = new AbortController();
      controller.abort();
      await assert.rejects(
        rewritePack(repo.packs, await objectsOfPacks(repo.packs, [everything.checksum]), { path: target, signal: controller.signal }),
        {
          name: 'AbortError',
        },
      );
      assert.equal(existsSync(target), false);
    });
  });
}
