import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ObjectType } from '../src/oid.js';
import { indexPack, type IndexPackOptions } from '../src/pack/indexer.js';
import { UNLIMITED_PACK } from '../src/pack/limits.js';
import { ObjectRejected } from '../src/pack/parallel/object-sink.js';
import { buildHistory } from '@gitfleet/test-support/histories';
import { starDeltaBomb } from '@gitfleet/test-support/delta-bombs';
import { git } from '@gitfleet/test-support/git';
import { catFile, sha1Object, withFreshTrailer } from '@gitfleet/test-support/packs';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { gitIndexPack, packObjects } from './pack-fixtures.js';
import type { FixtureSinkInit } from './parallel-sink-fixture.js';

const dir = tempDir({ after }, 'pack-indexer-parallel');
let repo: string;
let n = 0;

before(() => {
  // Each commit edits a 400-line file and a binary one: chains as deep as --depth allows.
  repo = buildHistory(dir, 300);
});

interface Run {
  idx?: Buffer;
  checksum?: string;
  appendedBases?: number;
  /** Every object reported, on whichever thread, sorted. */
  objects: string[];
  /** How many of them helper threads reported. */
  byHelpers?: number;
  error?: string;
  errorClass?: string;
}

/** Indexes a copy of `packPath` on `threads` threads (helpers forced even for a small pack) and gathers what every thread reported. */
async function indexOn(
  threads: number,
  packPath: string,
  overrides: Partial<IndexPackOptions> = {},
  sink: FixtureSinkInit = {},
): Promise<Run> {
  const copy = join(dir, `run-${n++}.pack`);
  copyFileSync(packPath, copy);
  const objects: string[] = [];
  const onObject = (oid: string, type: ObjectType, data: Buffer): void => {
    assert.equal(sha1Object(type, data), oid);
    if (sink.reject?.includes(oid)) throw new ObjectRejected(`refused ${oid}`);
    objects.push(`${oid} ${type}`);
  };
  try {
    const result = await indexPack(copy, {
      maxObjectSize: 64 << 20,
      resolveExternal: async () => undefined,
      onObject,
      parallel: {
        maxThreads: threads,
        minDeltas: 0,
        objectSink: { module: import.meta.resolve('./parallel-sink-fixture.js'), init: sink },
      },
      ...overrides,
    });
    const byHelpers = (result.sinkResults as [string, ObjectType][][]).flat().map(([oid, type]) => `${oid} ${type}`);
    if (threads > 1) assert.ok(result.sinkResults.length > 0, 'helper threads ran');
    objects.push(...byHelpers);
    const { idx, checksum, appendedBases } = result;
    return { idx, checksum, appendedBases, objects: objects.sort(), byHelpers: byHelpers.length };
  } catch (error) {
    return { objects: objects.sort(), error: (error as Error).message, errorClass: (error as Error).constructor.name };
  }
}

describe('indexPack on several threads gives what it gives on one', () => {
  test('a full pack with deep delta chains: same idx (git agrees), every object reported once', async () => {
    const packPath = packObjects(repo, [], join(dir, 'deep.pack'), ['--all', '--delta-base-offset', '--depth=250', '--window=50']);
    const one = await indexOn(1, packPath);
    const three = await indexOn(3, packPath);
    assert.equal(one.error, undefined);
    assert.equal(three.error, undefined);
    assert.deepEqual(three.idx, one.idx);
    assert.deepEqual(one.idx, gitIndexPack(packPath));
    assert.deepEqual(three.objects, one.objects);
    assert.equal(new Set(three.objects).size, three.objects.length, 'no object reported twice');
    assert.ok(three.byHelpers! > 0, 'helpers resolved some trees');
    assert.ok(packedDeltas(packPath).length > 500, `${packedDeltas(packPath).length} deltas, enough for every thread`);
  });

  test('a thin pack: bases fetched and appended on the calling thread, same idx and checksum', async () => {
    const packPath = packObjects(repo, ['main', '^main~120'], join(dir, 'thin.pack'), ['--thin', '--depth=100']);
    const bases = new Set<string>();
    const resolveExternal = async (oid: string) => {
      bases.add(oid);
      return catFile(repo, [oid]).get(oid);
    };
    const one = await indexOn(1, packPath, { resolveExternal });
    const fetched = bases.size;
    const two = await indexOn(2, packPath, { resolveExternal });
    assert.equal(one.error, undefined);
    assert.equal(two.error, undefined);
    assert.ok(one.appendedBases! > 0 && one.appendedBases === fetched, `${one.appendedBases} bases appended`);
    assert.equal(two.appendedBases, one.appendedBases);
    assert.equal(two.checksum, one.checksum);
    assert.deepEqual(two.idx, one.idx);
    assert.deepEqual(two.objects, one.objects);
  });

  test('a corrupt entry, a chain past the depth limit and a refused object fail with the same error either way', async () => {
    const packPath = packObjects(repo, [], join(dir, 'errors.pack'), ['--all', '--delta-base-offset', '--depth=250']);
    const pack = readFileSync(packPath);
    const corruptPath = join(dir, 'corrupt.pack');
    writeFileSync(corruptPath, corruptSomeDeltas(pack, packPath));

    const cases: [string, string, Partial<IndexPackOptions>, FixtureSinkInit][] = [
      ['corrupt', corruptPath, {}, {}],
      ['too deep', packPath, { limits: { ...UNLIMITED_PACK, maxDeltaDepth: 20 } }, {}],
      ['refused', packPath, {}, { reject: lateDeltas(packPath) }],
    ];
    for (const [name, path, overrides, sink] of cases) {
      const one = await indexOn(1, path, overrides, sink);
      const three = await indexOn(3, path, overrides, sink);
      assert.ok(one.error !== undefined, `${name}: refused on one thread`);
      assert.equal(three.error, one.error, name);
      assert.equal(three.errorClass, one.errorClass, name);
    }
  });

  test('a delta bomb is refused with the same message, having expanded no more than the limit', async () => {
    const { pack } = starDeltaBomb(40, 256);
    const path = join(dir, 'bomb.pack');
    writeFileSync(path, pack);
    const limits = { ...UNLIMITED_PACK, maxInflatedBytes: 40 << 20 };
    const one = await indexOn(1, path, { limits });
    const two = await indexOn(2, path, { limits });
    assert.match(one.error ?? '', /pack expands to more than 41943040 bytes/);
    assert.equal(two.error, one.error);
    assert.equal(two.errorClass, 'PackLimitExceeded');
  });
});

/** Breaks the zlib checksum (last byte) of every 50th delta past 40% of the pack: errors in several trees at once, trailer fixed. */
function corruptSomeDeltas(pack: Buffer, packPath: string): Buffer {
  const out = Buffer.from(pack);
  const late = packedDeltas(packPath).filter((d) => d.offset > pack.length * 0.4);
  for (let i = 0; i < late.length; i += 50) out[late[i].offset + late[i].length - 1] ^= 0xff;
  return withFreshTrailer(out);
}

/** Every 40th delta of the last half of the pack: refusing them fails several trees, none the first. */
function lateDeltas(packPath: string): string[] {
  const deltas = packedDeltas(packPath);
  return deltas
    .slice(deltas.length / 2)
    .filter((_, i) => i % 40 === 0)
    .map((d) => d.oid);
}

/** The deltas of the pack as `git verify-pack -v` lists them. */
function packedDeltas(packPath: string): { oid: string; offset: number; length: number }[] {
  const idxPath = packPath.replace(/\.pack$/, '.idx');
  writeFileSync(idxPath, gitIndexPack(packPath));
  const listing = git(dir, ['verify-pack', '-v', idxPath]).toString('latin1');
  return listing
    .split('\n')
    .map((line) => line.split(/\s+/))
    .filter((fields) => fields.length === 7 && /^[0-9a-f]{40}$/.test(fields[0]))
    .map((fields) => ({ oid: fields[0], offset: Number(fields[4]), length: Number(fields[3]) }))
    .sort((a, b) => a.offset - b.offset);
}
