// A server killed with SIGKILL in the middle of real pushes, restarted on the same data, a few
// rounds on the backend of the run (see scripts/crash/rounds.ts for what is checked);
// scripts/crash.ts runs the long version. And the judgement of a round, which must be able to fail.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectedBackend } from '@gitfleet/test-support/server-storage';
import { judgeRound } from '../scripts/crash/judge.js';
import type { PushResult, RefUpdate } from '../scripts/crash/pushes.js';
import { runCrashRounds } from '../scripts/crash/rounds.js';

const SEED = Number(process.env.GITFLEET_CRASH_SEED ?? 7);
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

test(
  `SIGKILL during pushes (seed ${SEED}): nothing acknowledged is lost, every ref is served, nothing is left behind`,
  { timeout: 180_000 },
  async (t) => {
    const summary = await runCrashRounds({
      backend: selectedBackend(),
      rounds: 3,
      seed: SEED,
      history: { kind: 'generated', commits: 30 },
      repositories: 2,
      // Shorter than pushes into a just restarted server take here (1.5–5 s), so that most kills land mid-push.
      killWindowMs: 1500,
      log: (line) => t.diagnostic(line),
    });
    t.diagnostic(JSON.stringify(summary));
    assert.deepEqual(summary.problems, []);
    assert.equal(summary.rounds, 3);
    assert.equal(summary.lost, 0);
    assert.equal(summary.danglingRefs, 0);
    assert.equal(summary.leftoverFiles, 0);
    assert.equal(summary.orphanPacks.remaining, 0);
  },
);

const pushed = (updates: RefUpdate[], accepted: string[]): PushResult => ({ updates, code: 0, accepted: new Set(accepted), errors: '' });

test('an acknowledged update that is not there is lost; an unacknowledged one may or may not have applied', () => {
  const before = new Map([
    ['refs/heads/x', A],
    ['refs/heads/y', A],
  ]);
  const results = [
    pushed(
      [
        { ref: 'refs/heads/x', kind: 'fast-forward', target: B },
        { ref: 'refs/heads/y', kind: 'delete', target: null },
      ],
      ['refs/heads/x'],
    ),
    pushed([{ ref: 'refs/heads/z', kind: 'create', target: C }], []),
  ];
  const held = judgeRound(before, results, new Map([['refs/heads/x', B]]));
  assert.deepEqual(held, { acknowledged: 1, lost: [], appliedUnacknowledged: 1, notApplied: 1, unexpected: [] });

  const lost = judgeRound(
    before,
    results,
    new Map([
      ['refs/heads/x', A],
      ['refs/heads/y', A],
    ]),
  );
  assert.equal(lost.lost.length, 1, 'the acknowledged fast-forward of x is gone');

  const moved = judgeRound(
    before,
    results,
    new Map([
      ['refs/heads/x', B],
      ['refs/heads/y', C],
      ['refs/heads/w', A],
    ]),
  );
  assert.equal(moved.unexpected.length, 2, 'y at a value no push gave it, w created without a push');
});
