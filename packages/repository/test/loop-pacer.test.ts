import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoopPacer } from '../src/loop-pacer.js';

/** Steps until the pacer has given the event loop a turn (it does once `holdMs` passed since the last). */
async function stepPastATurn(pacer: LoopPacer, holdMs: number): Promise<void> {
  const until = performance.now() + holdMs + 1;
  while (performance.now() < until) await pacer.step();
  await pacer.step();
}

test('a pacer with a signal throws its reason at the first turn after the abort, and runs on before it', async () => {
  const controller = new AbortController();
  const pacer = new LoopPacer(2, controller.signal);
  await stepPastATurn(pacer, 2);
  const reason = new Error('SIGTERM received');
  controller.abort(reason);
  await assert.rejects(stepPastATurn(pacer, 2), (error) => error === reason);
});
