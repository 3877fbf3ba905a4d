import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { gitStatus, gitText } from '@gitfleet/test-support/git';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { BitmapFile, IndexOrder } from '@gitfleet/git-format';
import { buildPackBitmaps, selectCommits, type CandidateCommit } from '../src/bitmaps/index.js';
import { repackedRepo, revList, type RepackedRepo } from './bitmaps-fixtures.js';

const dir = tempDir({ after }, 'bitmaps-build');
let fixture: RepackedRepo;
let bitmap: Buffer;

before(async () => {
  // Over a hundred commits, so that selection skips some and spaces the rest.
  fixture = await repackedRepo(dir, 260);
  bitmap = await buildPackBitmaps(fixture.repo.objects, fixture.pack, fixture.tips);
  writeFileSync(fixture.packPath.replace(/\.pack$/, '.bitmap'), bitmap);
});

function parseBitmap(): BitmapFile {
  const order = IndexOrder.fromPackIndex(fixture.pack.index);
  return BitmapFile.parse(bitmap, { objectCount: order.objectCount, packChecksum: fixture.pack.checksum, oidAt: (i) => order.oidAt(i) });
}

describe('buildPackBitmaps', () => {
  test('git verifies every bitmap against its own walk (rev-list --test-bitmap), every commit ref tip among them', () => {
    const commits = parseBitmap().entryInfos.map((entry) => entry.commit);
    for (const tip of fixture.tips) {
      if (gitText(fixture.dir, ['cat-file', '-t', tip]) === 'commit') assert.ok(commits.includes(tip), `tip ${tip} has a bitmap`);
    }
    for (const commit of commits) {
      const outcome = gitStatus(fixture.dir, ['rev-list', '--test-bitmap', commit]);
      assert.equal(outcome.status, 0, `test-bitmap ${commit}: ${outcome.stderr}`);
      assert.match(outcome.stderr, /OK!/);
    }
  });

  test('git answers rev-list --objects --all through the bitmap with the objects of its plain walk', () => {
    const plain = revList(fixture.dir, ['--objects', '--all']);
    const viaBitmap = revList(fixture.dir, ['--use-bitmap-index', '--objects', '--all']);
    assert.deepEqual(viaBitmap, plain);
  });

  test('every ref tip that is a commit has a bitmap, the newest hundred commits too, and older ones are spaced', () => {
    const withBitmap = new Set(parseBitmap().entryInfos.map((entry) => entry.commit));
    for (const branch of ['main', 'feature', 'old', 'topic']) assert.ok(withBitmap.has(fixture.rev(branch)), branch);
    const newestFirst = gitText(fixture.dir, ['rev-list', '--all', '--date-order']).split('\n');
    for (const commit of newestFirst.slice(0, 100)) assert.ok(withBitmap.has(commit), commit);
    assert.ok(withBitmap.size < newestFirst.length, `${withBitmap.size} of ${newestFirst.length} commits selected`);
  });
});

describe('selectCommits', () => {
  const history = (count: number): CandidateCommit[] =>
    Array.from({ length: count }, (_, i) => ({ oid: i.toString(16).padStart(40, '0'), time: i, isMerge: i % 37 === 0 }));

  test('takes every commit of a short history', () => {
    assert.equal(selectCommits(history(99), new Set()).length, 99);
  });

  test('spaces commits as git does: all of the newest hundred, windows of up to 100 then up to 5000, a merge or tip preferred', () => {
    const commits = history(60000);
    const tip = commits[30000].oid;
    const selected = selectCommits(commits, new Set([tip]));
    const times = selected.map((oid) => parseInt(oid, 16));
    assert.deepEqual(
      times.slice(0, 101),
      Array.from({ length: 101 }, (_, i) => 59999 - i),
    );
    assert.ok(selected.includes(tip));
    for (let i = 1; i < times.length; i++) assert.ok(times[i - 1] - times[i] <= 2 * 5001, `gap at ${times[i]}`);
    // A pick may open one window and the next close the following one: gaps stay within two windows.
    // In the middle region, each window of 101 holds a merge (every 37th commit): the merge is chosen.
    const middle = times.filter((t) => t < 59000 && t > 45000);
    assert.ok(middle.length > 0 && middle.every((t) => t % 37 === 0 || t === 30000), middle.join(','));
    assert.ok(selected.length < 400, `${selected.length} selected`);
  });

  test('gives bitmaps to at most so many tips beyond the spaced commits, the newest of those left out', () => {
    const commits = history(30000);
    const tips = new Set(commits.slice(20000, 20010).map((c) => c.oid));
    const spaced = new Set(selectCommits(commits, tips, 0));
    const leftOut = [...tips].filter((tip) => !spaced.has(tip)).reverse();
    assert.ok(leftOut.length >= 3);
    const capped = selectCommits(commits, tips, 2);
    assert.deepEqual(
      capped.filter((oid) => !spaced.has(oid)),
      leftOut.slice(0, 2),
    );
    assert.ok([...tips].every((tip) => selectCommits(commits, tips, Infinity).includes(tip)));
  });
});
