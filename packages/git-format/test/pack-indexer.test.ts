import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ObjectType } from '../src/oid.js';
import { PACK_TYPE, PackFormatError } from '../src/pack/entry.js';
import { PackIndex } from '../src/pack/index-file.js';
import { IndexWorkCapReached } from '../src/pack/limits.js';
import { PackInMemory } from '../src/pack/pack-file.js';
import { indexPack, type IndexedPack, type IndexPackOptions } from '../src/pack/indexer.js';
import { git, gitStatus } from '@gitfleet/test-support/git';
import { buildFixtureRepo } from '@gitfleet/test-support/histories';
import { catFile, sha1Object } from '@gitfleet/test-support/packs';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { gitIndexPack, packObjects } from './pack-fixtures.js';

let repo: string;
const dir = tempDir({ after }, 'pack-indexer');

before(() => {
  repo = buildFixtureRepo(dir);
});

interface Seen {
  type: ObjectType;
  data: Buffer;
}

async function index(
  packPath: string | PackInMemory,
  overrides: Partial<IndexPackOptions> = {},
): Promise<{ result: IndexedPack; seen: Map<string, Seen> }> {
  const seen = new Map<string, Seen>();
  const result = await indexPack(packPath, {
    maxObjectSize: 64 << 20,
    resolveExternal: async () => undefined,
    onObject: (oid, type, data) => {
      assert.equal(seen.has(oid), false, `onObject called twice for ${oid}`);
      assert.equal(sha1Object(type, data), oid, `onObject content of ${oid} does not hash to it`);
      seen.set(oid, { type, data: Buffer.from(data) });
    },
    ...overrides,
  });
  return { result, seen };
}

/** The entry type codes found in a pack, read at each offset its idx lists. */
function typeCodes(pack: Buffer, idx: Buffer): Set<number> {
  const codes = new Set<number>();
  for (const entry of PackIndex.parse(idx, pack.length).entries()) codes.add((pack[entry.offset] >> 4) & 7);
  return codes;
}

function assertSameAsGit(result: IndexedPack, seen: Map<string, Seen>, appended = 0): void {
  const oids = result.entries.map((e) => e.oid);
  assert.equal(oids.length, result.objectCount);
  assert.equal(seen.size, result.objectCount - appended, 'onObject reports every object the pack brought');
  const expected = catFile(repo, oids);
  for (const [oid, object] of seen) {
    const real = expected.get(oid);
    assert.ok(real, `${oid} is not an object of the repository`);
    assert.equal(object.type, real.type, `type of ${oid}`);
    assert.ok(object.data.equals(real.data), `content of ${oid}`);
  }
}

describe('indexPack on packs made by git pack-objects', () => {
  test('ofs-delta pack of the whole history: idx byte-identical to git index-pack, every object as git has it', async () => {
    const packPath = packObjects(repo, [], join(dir, 'ofs.pack'), ['--all', '--delta-base-offset']);
    const pack = readFileSync(packPath);
    const gitIdx = gitIndexPack(packPath);
    assert.ok(typeCodes(pack, gitIdx).has(PACK_TYPE.ofsDelta), 'the fixture pack has ofs-deltas');
    const progress: string[] = [];
    const { result, seen } = await index(packPath, {
      onObject: undefined,
      onProgress: (phase, done, total) => progress.push(`${phase} ${done}/${total}`),
    });
    assert.ok(result.idx.equals(gitIdx), 'idx identical to git index-pack');
    assert.equal(result.checksum, pack.subarray(pack.length - 20).toString('hex'));
    assert.equal(result.packSize, pack.length);
    assert.equal(result.appendedBases, 0);
    assert.ok(readFileSync(packPath).equals(pack), 'a complete pack is left untouched');
    assert.equal(seen.size, 0);
    assert.equal(progress.filter((p) => p.startsWith('receiving')).at(-1), `receiving ${result.objectCount}/${result.objectCount}`);
    assert.match(progress.at(-1) ?? '', /^resolving (\d+)\/\1$/);

    const again = await index(packPath);
    assertSameAsGit(again.result, again.seen);
  });

  test('ref-delta pack (no --delta-base-offset)', async () => {
    const packPath = packObjects(repo, [], join(dir, 'ref.pack'), ['--all']);
    const gitIdx = gitIndexPack(packPath);
    const codes = typeCodes(readFileSync(packPath), gitIdx);
    assert.ok(codes.has(PACK_TYPE.refDelta) && !codes.has(PACK_TYPE.ofsDelta), 'the fixture pack has only ref-deltas');
    const { result, seen } = await index(packPath);
    assert.ok(result.idx.equals(gitIdx), 'idx identical to git index-pack');
    assertSameAsGit(result, seen);
  });

  test('freshly computed deltas (git pack-objects -f style, --window=250 --depth=250)', async () => {
    const packPath = packObjects(repo, [], join(dir, 'deep.pack'), [
      '--all',
      '--no-reuse-delta',
      '--window=250',
      '--depth=250',
      '--delta-base-offset',
    ]);
    const { result, seen } = await index(packPath);
    assert.ok(result.idx.equals(gitIndexPack(packPath)));
    assertSameAsGit(result, seen);
  });

  test('with no memory for delta bases every base is rebuilt from its chain, with the same result', async () => {
    const packPath = packObjects(repo, [], join(dir, 'nocache.pack'), ['--all', '--delta-base-offset']);
    const { result, seen } = await index(packPath, { deltaBaseCacheBytes: 0 });
    assert.ok(result.idx.equals(gitIndexPack(packPath)));
    assertSameAsGit(result, seen);
  });

  test('thin pack: missing bases come from resolveExternal and are appended; git accepts the result', async () => {
    const packPath = packObjects(repo, ['main', '^main~6'], join(dir, 'thin.pack'), ['--thin', '--delta-base-offset']);
    const thinCopy = join(dir, 'thin-copy.pack');
    copyFileSync(packPath, thinCopy);
    assert.notEqual(
      gitStatus(dir, ['index-pack', '-o', join(dir, 'x.idx'), thinCopy]).status,
      0,
      'git itself refuses the pack as not self-contained',
    );

    const asked: string[] = [];
    const { result, seen } = await index(packPath, {
      resolveExternal: async (oid) => {
        asked.push(oid);
        const found = catFile(repo, [oid]).get(oid);
        return found;
      },
    });
    assert.ok(result.appendedBases > 0, 'the pack was thin');
    assert.equal(new Set(asked).size, asked.length, 'each missing base is asked for once');
    assert.equal(result.appendedBases, asked.length);
    for (const oid of asked) assert.equal(seen.has(oid), false, `${oid} came from outside the pack`);

    const completed = readFileSync(packPath);
    assert.equal(completed.length, result.packSize);
    assert.equal(completed.readUInt32BE(8), result.objectCount);
    assert.equal(completed.subarray(completed.length - 20).toString('hex'), result.checksum);
    assert.ok(result.idx.equals(gitIndexPack(packPath)), 'git index-pack of the completed pack gives our idx');
    writeFileSync(packPath.replace(/\.pack$/, '.idx'), result.idx);
    const verify = gitStatus(dir, ['verify-pack', '-v', packPath.replace(/\.pack$/, '.idx')]);
    assert.equal(verify.status, 0, verify.stderr);
    assertSameAsGit(result, seen, result.appendedBases);
  });

  test('thin pack whose base the repository lacks: PackFormatError naming the base', async () => {
    const packPath = packObjects(repo, ['main', '^main~1'], join(dir, 'thin-missing.pack'), ['--thin']);
    await assert.rejects(
      index(packPath),
      (error: Error) =>
        error instanceof PackFormatError &&
        /needs base [0-9a-f]{40}, which is neither in the pack nor in the repository/.test(error.message),
    );
  });

  test('resolveExternal returning other content than asked for is an error, not a corrupt pack', async () => {
    const packPath = packObjects(repo, ['main', '^main~1'], join(dir, 'thin-lie.pack'), ['--thin']);
    await assert.rejects(
      // Of the size the delta declares, so that only the content is wrong.
      index(packPath, {
        resolveExternal: async (oid) => {
          const base = catFile(repo, [oid]).get(oid);
          return base && { type: base.type, data: Buffer.alloc(base.data.length, 'x') };
        },
      }),
      /returned a \w+ whose id is/,
    );
  });

  test('a base from the repository of another size than its delta declares: PackFormatError, before it is appended', async () => {
    const packPath = packObjects(repo, ['main', '^main~1'], join(dir, 'thin-resized.pack'), ['--thin']);
    const before = readFileSync(packPath);
    await assert.rejects(
      index(packPath, { resolveExternal: async () => ({ type: 'blob', data: Buffer.from('not the base') }) }),
      (error: Error) => error instanceof PackFormatError && /expects a base of \d+ bytes, but [0-9a-f]{40} has 12/.test(error.message),
    );
    assert.deepEqual(readFileSync(packPath), before, 'nothing was appended');
  });

  test('workCap: a pack that declares more work stops before anything is written; within it, the same index', async () => {
    const packPath = packObjects(repo, ['main', '^main~1'], join(dir, 'thin-capped.pack'), ['--thin']);
    const before = readFileSync(packPath);
    const resolveExternal = async (oid: string) => catFile(repo, [oid]).get(oid);
    await assert.rejects(index(packPath, { resolveExternal, workCap: 1024 }), (error: Error) => error instanceof IndexWorkCapReached);
    assert.deepEqual(readFileSync(packPath), before, 'the pack is as it came: it can be indexed again');
    const uncapped = join(dir, 'thin-uncapped.pack');
    copyFileSync(packPath, uncapped);
    const { result: capped } = await index(packPath, { resolveExternal, workCap: 64 << 20 });
    const { result: free } = await index(uncapped, { resolveExternal });
    assert.ok(capped.appendedBases > 0);
    assert.deepEqual(capped.idx, free.idx);
  });

  test('a pack held in memory: the same index, and its bytes completed as the file is', async () => {
    const packPath = packObjects(repo, ['main', '^main~1'], join(dir, 'thin-memory.pack'), ['--thin']);
    const memory = new PackInMemory(readFileSync(packPath));
    const resolveExternal = async (oid: string) => catFile(repo, [oid]).get(oid);
    const { result: inMemory, seen } = await index(memory, { resolveExternal });
    const { result: onDisk } = await index(packPath, { resolveExternal });
    assert.ok(onDisk.appendedBases > 0);
    assert.deepEqual(inMemory.idx, onDisk.idx);
    assert.equal(inMemory.packSize, onDisk.packSize);
    assert.deepEqual(memory.contents(), readFileSync(packPath), 'bases appended, count and trailer rewritten');
    assert.equal(seen.size, onDisk.objectCount - onDisk.appendedBases);
  });

  test('an empty pack', async () => {
    const packPath = join(dir, 'empty.pack');
    writeFileSync(packPath, git(repo, ['pack-objects', '--stdout', '-q'], ''));
    const { result } = await index(packPath);
    assert.equal(result.objectCount, 0);
    assert.ok(result.idx.equals(gitIndexPack(packPath)));
  });
});
