import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { git } from '@gitfleet/test-support/git';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { CorruptSidecarError } from '../src/sidecars/errors.js';
import {
  packPositionsByIndexPosition,
  readReverseIndex,
  reverseIndexFromOffsets,
  reverseIndexOf,
  writeReverseIndex,
} from '../src/sidecars/reverse-index.js';
import { buildSidecarRepo, packFiles, packView, resealed, type PackView } from './sidecar-fixtures.js';

const dir = tempDir({ after }, 'sidecars-rev');
let view: PackView;
let gitRev: Buffer;

before(() => {
  const repo = buildSidecarRepo(dir);
  git(repo, ['-c', 'pack.writeReverseIndex=true', 'repack', '-ad']);
  view = packView(repo);
  gitRev = readFileSync(packFiles(repo).rev);
});

describe('reverse index against the .rev git wrote', () => {
  test('reading it gives the idx positions sorted by pack offset', () => {
    const packOrder = readReverseIndex(gitRev, view.index);
    assert.equal(packOrder.length, view.index.objectCount);
    for (let i = 1; i < packOrder.length; i++) assert.ok(view.order.offsets[packOrder[i - 1]] < view.order.offsets[packOrder[i]]);
    assert.deepEqual(reverseIndexOf(view.index), packOrder);
  });

  test('writing the reverse index computed from the idx gives git’s bytes', () => {
    assert.ok(writeReverseIndex(reverseIndexOf(view.index), view.index.packChecksum).equals(gitRev));
  });

  test('pack positions by idx position invert the reverse index', () => {
    const packOrder = reverseIndexOf(view.index);
    const packPositions = packPositionsByIndexPosition(packOrder);
    for (let p = 0; p < packOrder.length; p++) assert.equal(packPositions[packOrder[p]], p);
  });
});

describe('reverse index on its own', () => {
  test('round trips, with offsets in any order', () => {
    const offsets = Float64Array.from([900, 12, 2 ** 33, 40, 300]);
    const packOrder = reverseIndexFromOffsets(offsets);
    assert.deepEqual([...packOrder], [1, 3, 4, 0, 2]);
    const checksum = 'ab'.repeat(20);
    assert.deepEqual(readReverseIndex(writeReverseIndex(packOrder, checksum), { objectCount: 5, packChecksum: checksum }), packOrder);
    assert.throws(() => reverseIndexFromOffsets(Float64Array.from([12, 12])), /two objects/);
    assert.throws(() => writeReverseIndex(Uint32Array.from([0, 0]), checksum), /appears twice/);
  });

  const refusals: [string, () => Buffer, RegExp][] = [
    ['a flipped byte', () => Buffer.from(gitRev).fill(0x5a, 14, 15), /checksum mismatch/],
    ['a truncated file', () => gitRev.subarray(0, gitRev.length - 4), /bytes where/],
    ['a bad signature', () => resealed(gitRev, (b) => b.write('XIDX', 0, 'latin1')), /signature/],
    ['a version 2', () => resealed(gitRev, (b) => b.writeUInt32BE(2, 4)), /version 2/],
    ['a SHA-256 hash id', () => resealed(gitRev, (b) => b.writeUInt32BE(2, 8)), /hash id 2/],
    ['a .rev of another pack', () => resealed(gitRev, (b) => b.fill(0, b.length - 40, b.length - 20)), /written for pack/],
    ['a position out of range', () => resealed(gitRev, (b) => b.writeUInt32BE(0xffffff, 12)), /names idx position/],
    ['a repeated position', () => resealed(gitRev, (b) => b.copy(b, 12, 16, 20)), /appears twice/],
  ];
  for (const [name, bytes, message] of refusals) {
    test(`refuses ${name}`, () => {
      assert.throws(
        () => readReverseIndex(bytes(), view.index),
        (error: unknown) => error instanceof CorruptSidecarError && message.test(error.message),
      );
    });
  }
});
