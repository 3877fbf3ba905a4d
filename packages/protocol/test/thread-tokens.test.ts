import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { ThreadTokens } from '../src/receive-pack/thread-tokens.js';

describe('ThreadTokens: one bound on indexing threads, shared between threads', () => {
  test('take grants only what is spare, at once; acquire waits for a token given back', async () => {
    const tokens = ThreadTokens.create(3);
    await tokens.acquire();
    assert.equal(tokens.take(4), 2, 'two spare of three');
    assert.equal(tokens.take(1), 0);
    let acquired = false;
    const waiting = tokens.acquire().then(() => (acquired = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(acquired, false, 'no token spare: the push waits');
    tokens.giveBack(2);
    await waiting;
    assert.equal(tokens.take(4), 1, 'one of the two given back went to the waiting push');
  });

  test('a token given back on another thread wakes a push waiting on this one', async () => {
    const tokens = ThreadTokens.create(1);
    await tokens.acquire();
    const waiting = tokens.acquire();
    const worker = new Worker(
      'Atomics.add(require("node:worker_threads").workerData, 0, 1); Atomics.notify(require("node:worker_threads").workerData, 0);',
      {
        eval: true,
        workerData: tokens.cells,
      },
    );
    await waiting;
    await new Promise((resolve) => worker.once('exit', resolve));
    assert.equal(tokens.take(1), 0, 'the token went to the waiting push');
  });
});
