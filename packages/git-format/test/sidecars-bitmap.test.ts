import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { git, gitStatus, gitText } from '@gitfleet/test-support/git';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { Bitmap } from '../src/sidecars/bitmap.js';
import {
  BITMAP_OPT_HASH_CACHE,
  BITMAP_OPT_LOOKUP_TABLE,
  BitmapFile,
  writeBitmapFile,
  type BitmapEntryInput,
} from '../src/sidecars/bitmap-file.js';
import { CorruptSidecarError } from '../src/sidecars/errors.js';
import { reverseIndexOf, writeReverseIndex } from '../src/sidecars/reverse-index.js';
import {
  buildSidecarRepo,
  copyRepo,
  nameHashesByGit,
  packFiles,
  packView,
  reachableBitmap,
  replaceFile,
  resealed,
  typeBitmapsByGit,
  type PackView,
} from './sidecar-fixtures.js';

const dir = tempDir({ after }, 'sidecars-bitmap');
let repo: string;
let view: PackView;
let gitBitmap: Buffer;
/** Commits to give bitmaps to, ancestors first: every fifth commit and every branch tip. */
let selected: string[];
let selectedBitmaps: Map<string, Bitmap>;

before(() => {
  repo = buildSidecarRepo(dir);
  git(repo, ['-c', 'pack.writeReverseIndex=true', 'repack', '-adb']);
  view = packView(repo);
  gitBitmap = readFileSync(packFiles(repo).bitmap);
  const tips = new Set(gitText(repo, ['for-each-ref', '--format=%(objectname)', 'refs/heads']).split('\n'));
  selected = gitText(repo, ['rev-list', '--all', '--topo-order', '--reverse'])
    .split('\n')
    .filter((commit, i) => i % 5 === 0 || tips.has(commit));
  selectedBitmaps = new Map(selected.map((commit) => [commit, reachableBitmap(repo, view, commit)]));
});

function parse(bytes: Buffer, pack: PackView = view): BitmapFile {
  return BitmapFile.parse(bytes, {
    objectCount: pack.index.objectCount,
    packChecksum: pack.index.packChecksum,
    oidAt: (i) => pack.order.oidAt(i),
  });
}

function assertMatchesGitWalk(file: BitmapFile, pack: PackView, repository: string): void {
  const expected = typeBitmapsByGit(repository, pack);
  for (const type of ['commits', 'trees', 'blobs', 'tags'] as const)
    assert.ok(file.types[type].equals(expected[type]), `${type} type bitmap`);
  assert.ok(file.entryInfos.length > 0);
  for (const { commit } of file.entryInfos) {
    assert.ok(file.bitmapFor(commit)?.equals(reachableBitmap(repository, pack, commit)), `bitmap of ${commit}`);
  }
}

function bitmapEntries(commits: readonly string[]): BitmapEntryInput[] {
  return commits.map((commit) => ({
    indexPosition: view.order.positionOf(commit) ?? assert.fail(commit),
    bitmap: selectedBitmaps.get(commit) ?? assert.fail(commit),
  }));
}

function myBitmapFile(entries: BitmapEntryInput[] = bitmapEntries(selected), nameHashes?: Uint32Array): Buffer {
  return writeBitmapFile({
    packChecksum: view.index.packChecksum,
    objectCount: view.index.objectCount,
    types: typeBitmapsByGit(repo, view),
    entries,
    nameHashes,
  });
}

/** A copy of the repository whose pack has these `.rev` and `.bitmap` instead of git's. */
function withSidecars(name: string, rev: Buffer, bitmap: Buffer): string {
  const copy = copyRepo(repo, dir, name);
  const files = packFiles(copy);
  replaceFile(files.rev, rev);
  replaceFile(files.bitmap, bitmap);
  return copy;
}

function testBitmap(repository: string, commit: string): { status: number | null; stderr: string } {
  return gitStatus(repository, ['rev-list', '--test-bitmap', commit]);
}

describe('BitmapFile reading the .bitmap git wrote', () => {
  test('type bitmaps and every commit bitmap equal what git rev-list --objects walks', () => {
    const file = parse(gitBitmap);
    assert.ok(file.flags & BITMAP_OPT_HASH_CACHE, 'git 2.39 writes the name-hash cache by default');
    assert.equal(file.nameHashes?.length, view.index.objectCount);
    assertMatchesGitWalk(file, view, repo);
    assert.equal(file.bitmapFor('0'.repeat(40)), undefined);
  });

  test('entries asked for again, newest first after oldest first, still resolve right when more than it keeps were resolved', () => {
    const file = parse(myBitmapFile());
    // It keeps 32 resolved bitmaps' worth: more entries than that make it decode some again.
    assert.ok(selected.length > 32, `${selected.length} entries`);
    for (const commit of [...selected, ...[...selected].reverse()]) {
      assert.ok(file.bitmapFor(commit)?.equals(selectedBitmaps.get(commit) as Bitmap), `bitmap of ${commit}`);
    }
  });

  test('its name-hash cache holds packNameHash of the names git rev-list --objects prints', () => {
    const expected = nameHashesByGit(repo, view);
    assert.ok(expected.some((hash) => hash !== 0));
    assert.deepEqual(parse(gitBitmap).nameHashes, expected);
  });

  test('written back with the same entries, XOR choices included, it is byte for byte the file git wrote', () => {
    const file = parse(gitBitmap);
    const bytes = writeBitmapFile({
      packChecksum: view.index.packChecksum,
      objectCount: view.index.objectCount,
      types: file.types,
      entries: file.entryInfos.map(({ commit, flags }) => ({
        indexPosition: view.order.positionOf(commit) ?? assert.fail(commit),
        bitmap: file.bitmapFor(commit) ?? assert.fail(commit),
        flags,
      })),
      nameHashes: file.nameHashes,
    });
    assert.deepEqual(
      parse(bytes).entryInfos.map((entry) => entry.xorOffset),
      file.entryInfos.map((entry) => entry.xorOffset),
    );
    assert.ok(bytes.equals(gitBitmap));
  });

  test('a .bitmap with a lookup table reads the same', () => {
    const copy = copyRepo(repo, dir, 'lookup-table.git');
    git(copy, ['-c', 'pack.writeReverseIndex=true', '-c', 'pack.writeBitmapLookupTable=true', 'repack', '-adb']);
    const copyView = packView(copy);
    const file = parse(readFileSync(packFiles(copy).bitmap), copyView);
    assert.ok(file.flags & BITMAP_OPT_LOOKUP_TABLE);
    assertMatchesGitWalk(file, copyView, copy);
  });
});

describe('writeBitmapFile and writeReverseIndex judged by git', () => {
  test('git rev-list --test-bitmap accepts every bitmap written, and counts with bitmaps equal counts without', () => {
    const nameHashes = nameHashesByGit(repo, view);
    const bitmap = myBitmapFile(bitmapEntries(selected), nameHashes);
    const file = parse(bitmap);
    assert.deepEqual(file.nameHashes, nameHashes);
    assert.ok(
      file.entryInfos.some((entry) => entry.xorOffset > 0),
      'some entries are stored XORed with an earlier one',
    );
    for (const commit of selected) assert.ok(file.bitmapFor(commit)?.equals(selectedBitmaps.get(commit) as Bitmap));

    const copy = withSidecars('mine.git', writeReverseIndex(reverseIndexOf(view.index), view.index.packChecksum), bitmap);
    for (const commit of selected) {
      const verdict = testBitmap(copy, commit);
      assert.equal(verdict.status, 0, verdict.stderr);
      assert.match(verdict.stderr, new RegExp(`Bitmap v1 test \\(${selected.length} entries loaded\\)`));
      assert.match(verdict.stderr, /OK!/);
    }
    const count = (useBitmaps: boolean): string =>
      gitText(copy, ['rev-list', ...(useBitmaps ? ['--use-bitmap-index'] : []), '--count', '--objects', '--all']);
    assert.equal(count(true), count(false));
    assert.equal(count(true), String(view.index.objectCount));
  });

  test('git rev-list --test-bitmap refuses a bitmap missing one object, so the check above can fail', () => {
    const entries = bitmapEntries(selected);
    const last = entries[entries.length - 1];
    const damaged = last.bitmap.clone();
    damaged.clear(damaged.bitLength() - 1);
    entries[entries.length - 1] = { ...last, bitmap: damaged };
    const copy = withSidecars(
      'missing-object.git',
      writeReverseIndex(reverseIndexOf(view.index), view.index.packChecksum),
      myBitmapFile(entries),
    );
    const verdict = testBitmap(copy, selected[selected.length - 1]);
    assert.notEqual(verdict.status, 0);
    assert.match(verdict.stderr, /mismatch/);
  });

  test('git reads positions through the .rev written here: swapping two of them breaks the bitmaps', () => {
    const packOrder = reverseIndexOf(view.index);
    [packOrder[1], packOrder[2]] = [packOrder[2], packOrder[1]];
    const copy = withSidecars('swapped-rev.git', writeReverseIndex(packOrder, view.index.packChecksum), myBitmapFile());
    const verdicts = selected.map((commit) => testBitmap(copy, commit));
    assert.ok(verdicts.some((verdict) => verdict.status !== 0));
  });

  test('refuses bitmaps or positions that do not fit the pack', () => {
    const objectCount = view.index.objectCount;
    const tooFar = bitmapEntries(selected.slice(0, 1));
    tooFar[0].bitmap = tooFar[0].bitmap.clone();
    tooFar[0].bitmap.set(objectCount);
    assert.throws(() => myBitmapFile(tooFar), /sets bit/);
    assert.throws(() => myBitmapFile([{ ...bitmapEntries(selected.slice(0, 1))[0], indexPosition: objectCount }]), /idx position/);
    assert.throws(() => myBitmapFile(bitmapEntries([selected[0], selected[0]])), /has a bitmap already/);
    const types = typeBitmapsByGit(repo, view);
    const overlapping = { ...types, tags: types.tags.clone().or(Bitmap.of([types.blobs.setBits()[0]])) };
    const untyped = { ...types, blobs: types.blobs.clone().andNot(Bitmap.of([types.blobs.setBits()[0]])) };
    for (const wrong of [overlapping, untyped]) {
      assert.throws(
        () => writeBitmapFile({ packChecksum: view.index.packChecksum, objectCount, types: wrong, entries: [] }),
        /type bitmaps give/,
      );
    }
  });
});

describe('BitmapFile refusing corrupt files', () => {
  const typesEnd = (bytes: Buffer): number => {
    let at = 32;
    for (let i = 0; i < 4; i++) at += 12 + 8 * bytes.readUInt32BE(at + 4);
    return at;
  };
  const cases: [string, () => Buffer, RegExp][] = [
    ['a flipped byte', () => Buffer.from(gitBitmap).fill(0x5a, 100, 101), /checksum mismatch/],
    ['a bitmap of another pack', () => resealed(gitBitmap, (b) => b.fill(0, 12, 32)), /written for pack/],
    ['a version 2', () => resealed(gitBitmap, (b) => b.writeUInt16BE(2, 4)), /unsupported version 2/],
    ['a missing BITMAP_OPT_FULL_DAG', () => resealed(gitBitmap, (b) => b.writeUInt16BE(BITMAP_OPT_HASH_CACHE, 6)), /FULL_DAG/],
    ['an entry count beyond the file', () => resealed(gitBitmap, (b) => b.writeUInt32BE(1_000_000, 8)), /cannot fit/],
    ['a type bitmap longer than the file', () => resealed(gitBitmap, (b) => b.writeUInt32BE(0x10000000, 36)), /run past the end/],
    ['a first entry XORed with nothing', () => resealed(gitBitmap, (b) => b.writeUInt8(1, typesEnd(b) + 4)), /XOR offset 1/],
    ['a commit position outside the idx', () => resealed(gitBitmap, (b) => b.writeUInt32BE(0xffffff, typesEnd(b))), /idx position/],
  ];
  for (const [name, bytes, message] of cases) {
    test(`refuses ${name}`, () => {
      assert.throws(
        () => parse(bytes()),
        (error: unknown) => error instanceof CorruptSidecarError && message.test(error.message),
      );
    });
  }
});
