/**
 * Diffs are bounded per request and run off the event loop: a commit rewriting long files
 * (built here) answers within one time and line budget, with the files that did not fit
 * listed as not rendered, while the event loop keeps turning.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DiffCache, LineDiffPool, PoolBusy, commitDiff } from '../src/index.js';
import { diffPool, git, loadRepository } from './fixture.js';
import type { Repository } from '@gitfleet/repository';
import { MAX_LOOP_HOLD_MS, loopLagDuring } from '@gitfleet/test-support/event-loop';
import { tempDir } from '@gitfleet/test-support/temp-dir';

const FILES = 4;
const LINES = 3_000;

const dir = tempDir({ after }, 'diff-budget');
let repo: Repository;
let rewrite: string;

before(async () => {
  git(dir, ['init', '--quiet', '--initial-branch=main']);
  const write = (prefix: string) => {
    for (let file = 0; file < FILES; file++) {
      writeFileSync(
        path.join(dir, `f${file}.txt`),
        Array.from({ length: LINES }, (_, line) => `${prefix} ${file} ${line}`).join('\n') + '\n',
      );
    }
  };
  write('old');
  git(dir, ['add', '-A']);
  git(dir, ['commit', '--quiet', '-m', 'long files']);
  // Every line differs: the most expensive diff there is for files of this length.
  write('new');
  git(dir, ['commit', '--quiet', '-am', 'rewrite them all']);
  rewrite = git(dir, ['rev-parse', 'main']).trim();
  repo = await loadRepository(dir);
});

describe('the diff budget', () => {
  it('gives up on wholly rewritten long files without holding the event loop', async () => {
    const { value: diff, maxLagMs } = await loopLagDuring(() => commitDiff(repo, rewrite, { pool: diffPool }));
    assert.equal(diff.files.length, FILES);
    for (const file of diff.files) {
      assert.equal(file.tooLarge, true, file.path);
      assert.ok(file.tooLargeReason === 'changes' || file.tooLargeReason === 'budget', `${file.path}: ${file.tooLargeReason}`);
      assert.equal(file.hunks, undefined);
    }
    assert.ok(maxLagMs < MAX_LOOP_HOLD_MS, `the event loop was held ${maxLagMs.toFixed(0)} ms`);
  });

  it('spends one time budget for the whole request', async () => {
    const started = performance.now();
    const diff = await commitDiff(repo, rewrite, { pool: diffPool, limits: { timeMs: 50, maxEditLength: 1_000_000 } });
    const elapsed = performance.now() - started;
    assert.equal(diff.budgetExhausted, true);
    assert.ok(diff.files.every((file) => file.tooLarge && file.hunks === undefined));
    assert.ok(diff.files.slice(1).every((file) => file.tooLargeReason === 'budget'));
    // One budget, not one per file: well under FILES × 50 ms of diffing plus the reads.
    assert.ok(elapsed < 2_000, `took ${elapsed.toFixed(0)} ms`);
  });

  it('charges a file that gave up with its lines', async () => {
    const diff = await commitDiff(repo, rewrite, { pool: diffPool, limits: { maxLines: 2 * LINES + 1 } });
    assert.equal(diff.files[0].tooLargeReason, 'changes');
    assert.equal(diff.files[1].tooLargeReason, 'changes');
    assert.deepEqual(
      diff.files.slice(2).map((file) => file.tooLargeReason),
      Array(FILES - 2).fill('budget'),
    );
    assert.equal(diff.budgetExhausted, true);
  });

  it('is computed once per tree pair and limits, and shared while it runs', async () => {
    const cache = new DiffCache(16 * 1024 * 1024);
    // Time enough that only the deterministic limits (edit length) shape the result.
    const options = { pool: diffPool, cache, limits: { timeMs: 60_000 } };
    const [first, second] = await Promise.all([commitDiff(repo, rewrite, options), commitDiff(repo, rewrite, options)]);
    assert.equal(first, second);
    assert.equal(await commitDiff(repo, rewrite, options), first);
    assert.notEqual(await commitDiff(repo, rewrite, { ...options, limits: { timeMs: 60_000, maxFiles: 1 } }), first);
    assert.ok(cache.bytes > 0);
    const tiny = { ...options, cache: new DiffCache(1) };
    assert.notEqual(await commitDiff(repo, rewrite, tiny), await commitDiff(repo, rewrite, tiny));
  });

  it('keeps no diff that ran out of time: a busy moment is not served to everyone afterwards', async () => {
    const cache = new DiffCache(16 * 1024 * 1024);
    const options = { pool: diffPool, cache, limits: { timeMs: 1, maxEditLength: 1_000_000 } };
    const first = await commitDiff(repo, rewrite, options);
    assert.equal(first.timeLimited, true);
    assert.equal(first.budgetExhausted, true);
    assert.notEqual(await commitDiff(repo, rewrite, options), first, 'computed again');
    assert.equal(cache.bytes, 0);
  });

  it('refuses work beyond its queue: PoolBusy', async () => {
    const pool = new LineDiffPool({ threads: 1, maxQueue: 1 });
    try {
      const runs = Array.from({ length: 4 }, () => commitDiff(repo, rewrite, { pool, limits: { maxEditLength: 1_000_000, timeMs: 300 } }));
      const settled = await Promise.allSettled(runs);
      assert.ok(
        settled.some((run) => run.status === 'rejected' && run.reason instanceof PoolBusy),
        'some request was refused',
      );
      assert.ok(
        settled.some((run) => run.status === 'fulfilled'),
        'some request was served',
      );
    } finally {
      await pool.close();
    }
  });
});
