/**
 * Large blobs and trees are read as far as they are needed: a blob stored whole is inflated as
 * it streams, a deltified one is rebuilt within a byte budget, a directory lists a bounded
 * number of entries. Built here by git: a few MiB, nothing committed.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InMemoryReadBudget, ObjectReadsBusy, openObjectStream, type Repository } from '@gitfleet/repository';
import { commitDiff, findReadme, openFile, readFile, readTree, statPath } from '../src/index.js';
import { diffPool, git, loadRepository } from './fixture.js';
import { MAX_LOOP_HOLD_MS, loopLagDuring } from '@gitfleet/test-support/event-loop';
import { incompressibleText } from '@gitfleet/test-support/noise';
import { tempDir } from '@gitfleet/test-support/temp-dir';

const BIG = 3 * 1024 * 1024;
const DIRECTORY_ENTRIES = 2_500;
const HUGE_TREE_ENTRIES = 300_000;

const dir = tempDir({ after }, 'large-objects');
let repo: Repository;
let main: string;

before(async () => {
  git(dir, ['init', '--quiet', '--initial-branch=main']);
  const big = incompressibleText(BIG);
  writeFileSync(path.join(dir, 'README.md'), big);
  // Nearly the same: git stores one of the two as a delta of the other.
  writeFileSync(path.join(dir, 'copy.md'), Buffer.concat([big, Buffer.from('one more line\n')]));
  mkdirSync(path.join(dir, 'many'));
  for (let i = 0; i < DIRECTORY_ENTRIES; i++) writeFileSync(path.join(dir, 'many', `f${String(i).padStart(5, '0')}`), `${i}\n`);
  git(dir, ['add', '-A']);
  git(dir, ['commit', '--quiet', '-m', 'large things']);
  main = git(dir, ['rev-parse', 'main']).trim();
  repo = await loadRepository(dir);
});

async function kindOf(file: string): Promise<string> {
  const { oid } = await statPath(repo, main, file);
  return (await repo.packs.locate(oid))!.header.kind;
}

async function wholeAndDelta(): Promise<{ whole: string; delta: string }> {
  const [readme, copy] = [await kindOf('README.md'), await kindOf('copy.md')];
  assert.notEqual(readme, copy, 'git stored one of the twins as a delta');
  return readme === 'object' ? { whole: 'README.md', delta: 'copy.md' } : { whole: 'copy.md', delta: 'README.md' };
}

describe('large objects', () => {
  it('streams a blob stored whole in small chunks, inflated as it is read', async () => {
    const { whole } = await wholeAndDelta();
    const { oid, size } = await statPath(repo, main, whole);
    const opened = (await openObjectStream(repo, oid, new InMemoryReadBudget(1)))!;
    assert.equal(opened.streamed, true);
    let largest = 0;
    let total = 0;
    for await (const chunk of opened.stream as AsyncIterable<Buffer>) {
      largest = Math.max(largest, chunk.length);
      total += chunk.length;
    }
    assert.equal(total, size);
    assert.ok(largest <= 64 * 1024, `a chunk of ${largest} bytes`);
    const file = await openFile(repo, main, whole);
    const bytes: Buffer[] = [];
    for await (const chunk of file.stream as AsyncIterable<Buffer>) bytes.push(chunk);
    assert.equal(Buffer.concat(bytes).toString(), git(dir, ['cat-file', 'blob', oid]));
  });

  it('rebuilds a deltified blob within the in-memory budget, and refuses beyond it', async () => {
    const { delta } = await wholeAndDelta();
    const { oid } = await statPath(repo, main, delta);
    const budget = new InMemoryReadBudget(BIG);
    const first = (await openObjectStream(repo, oid, budget))!;
    assert.equal(first.streamed, false);
    assert.equal(budget.inFlight, first.size);
    // One read alone is always admitted; a second one over the budget is not.
    await assert.rejects(openObjectStream(repo, oid, budget), ObjectReadsBusy);
    first.stream.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(budget.inFlight, 0);
  });

  it('reads only a prefix of a file over the limit', async () => {
    const { whole } = await wholeAndDelta();
    const file = await readFile(repo, main, whole, { maxBytes: 100 });
    assert.equal(file.truncated, true);
    assert.equal(file.content.length, 100);
    assert.ok(file.size > BIG - 1);
  });

  it('diffs trees of many entries as streams, without holding the event loop', async (t) => {
    const huge = tempDir(t, 'huge-tree');
    git(huge, ['init', '--quiet', '--initial-branch=main']);
    const blob = git(huge, ['hash-object', '-w', '--stdin'], { input: 'same\n' }).trim();
    const index = Array.from({ length: HUGE_TREE_ENTRIES }, (_, i) => `100644 ${blob}\tentry-${String(i).padStart(7, '0')}\n`).join('');
    git(huge, ['update-index', '--index-info'], { input: index });
    git(huge, ['commit', '--quiet', '-m', 'a huge tree']);
    git(huge, ['update-index', '--cacheinfo', `100755,${blob},entry-${String(HUGE_TREE_ENTRIES - 1).padStart(7, '0')}`]);
    git(huge, ['commit', '--quiet', '-m', 'one mode change at the end']);
    // Both trees stored whole: what is measured is reading them, not rebuilding a delta.
    const hugeRepo = await loadRepository(huge, { wholeObjects: true });
    const { value: diff, maxLagMs } = await loopLagDuring(() =>
      commitDiff(hugeRepo, git(huge, ['rev-parse', 'main']).trim(), { pool: diffPool }),
    );
    assert.deepEqual(
      diff.files.map((file) => [file.status, file.path]),
      [['modified', `entry-${String(HUGE_TREE_ENTRIES - 1).padStart(7, '0')}`]],
    );
    assert.ok(maxLagMs < MAX_LOOP_HOLD_MS, `the event loop was held ${maxLagMs.toFixed(0)} ms`);
  });

  it('lists a bounded number of entries of a large directory, and says so', async () => {
    const listing = await readTree(repo, main, 'many', { maxEntries: 1000 });
    assert.equal(listing.truncated, true);
    assert.equal(listing.entries.length, 1000);
    assert.deepEqual(
      listing.entries.map((entry) => entry.name),
      Array.from({ length: 1000 }, (_, i) => `f${String(i).padStart(5, '0')}`),
    );
    assert.equal((await readTree(repo, main, 'many', { maxEntries: DIRECTORY_ENTRIES })).truncated, false);
    assert.equal((await statPath(repo, main, `many/f${String(DIRECTORY_ENTRIES - 1).padStart(5, '0')}`)).type, 'blob');
    assert.equal(await findReadme(repo, main, 'many'), undefined);
  });
});
