import assert from 'node:assert/strict';
import { it } from 'node:test';
import { PermanentJobFailure, type Job, type JobQueue, type RetryPolicy } from '../src/index.js';

/** Opens one more handle on the same queue (as another server process would). */
export type OpenQueue = (retry: RetryPolicy) => JobQueue<{ n: number }>;

const FAST_RETRY: RetryPolicy = { maxAttempts: 4, backoffMs: 20, maxBackoffMs: 50 };

/** Resolves once `done()` is true, checking whenever `tick` is called. */
function until(done: () => boolean): { promise: Promise<void>; tick(): void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, tick: () => done() && resolve() };
}

/** `check`'s first answer that is not undefined, asked every 10 ms for up to 10 s. */
async function waitFor<T>(check: () => Promise<T | undefined>): Promise<T> {
  for (let waited = 0; waited < 10_000; waited += 10) {
    const answer = await check();
    if (answer !== undefined) return answer;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('waitFor: no answer within 10 s');
}

/** The behaviour every JobQueue backend must have, run against each of them. */
export function jobQueueConformance(open: () => OpenQueue): void {
  it('two handles on one queue run every job exactly once between them', async () => {
    const openHandle = open();
    const [a, b] = [openHandle(FAST_RETRY), openHandle(FAST_RETRY)];
    const runs = new Map<string, number>();
    const total = 60;
    const all = until(() => runs.size === total);
    const handler = async (job: Job<{ n: number }>) => {
      runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, 2));
      all.tick();
    };
    a.work(handler);
    b.work(handler);
    await Promise.all(Array.from({ length: total }, (_, n) => (n % 2 ? a : b).add(`job-${n}`, { n })));
    await all.promise;
    await Promise.all([a.close(), b.close()]);
    assert.equal(runs.size, total);
    assert.deepEqual(
      [...runs.values()].filter((count) => count !== 1),
      [],
      'no job ran twice',
    );
  });

  it('retries a failing job with its id until it succeeds, and never adds an id twice', async () => {
    const queue = open()(FAST_RETRY);
    const attempts: Array<{ id: string; attempt: number }> = [];
    const finished = until(() => attempts.length === 3);
    queue.work(async (job) => {
      attempts.push({ id: job.id, attempt: job.attempt });
      finished.tick();
      if (job.attempt < 3) throw new Error('receiver down');
    });
    await queue.add('flaky', { n: 1 });
    await queue.add('flaky', { n: 2 });
    await finished.promise;
    // Give a duplicate, if any was queued, the time of one more backoff to show up.
    await new Promise((r) => setTimeout(r, 200));
    await queue.close();
    assert.deepEqual(attempts, [
      { id: 'flaky', attempt: 1 },
      { id: 'flaky', attempt: 2 },
      { id: 'flaky', attempt: 3 },
    ]);
  });

  it('tells how many jobs are due, delayed and running, across handles', async () => {
    const openHandle = open();
    const [producer, worker] = [openHandle(FAST_RETRY), openHandle(FAST_RETRY)];
    assert.deepEqual(await producer.depth(), { due: 0, delayed: 0, running: 0 });
    await producer.add('later', { n: 1 }, { delayMs: 3_600_000 });
    await producer.add('now-1', { n: 2 });
    await producer.add('now-2', { n: 3 });
    assert.deepEqual(await worker.depth(), { due: 2, delayed: 1, running: 0 });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const started = until(() => true);
    worker.work(async () => {
      started.tick();
      await held;
    });
    await started.promise;
    // One handle's workers (concurrency 1 in these tests, or more) hold what they took.
    const running = await waitFor(async () => {
      const depth = await producer.depth();
      return depth.running > 0 ? depth : undefined;
    });
    assert.equal(running.delayed, 1);
    assert.equal(running.due + running.running, 2);
    release();
    assert.deepEqual(
      await waitFor(async () => {
        const depth = await producer.depth();
        return depth.due + depth.running === 0 ? depth : undefined;
      }),
      { due: 0, delayed: 1, running: 0 },
    );
    await Promise.all([producer.close(), worker.close()]);
  });

  it('keeps a delayed job until its delay runs out, or until it is promoted with new data', async () => {
    const queue = open()(FAST_RETRY);
    const ran: Array<{ id: string; n: number }> = [];
    const both = until(() => ran.length === 2);
    queue.work(async (job) => {
      ran.push({ id: job.id, n: job.data.n });
      both.tick();
    });
    // An hour: only a promotion can make it run within the test. (Ids are not BullMQ's own
    // key names, such as "delayed" or "wait", which would clash with the queue's keys.)
    await queue.add('promoted', { n: 1 }, { delayMs: 3_600_000 });
    await queue.add('soon', { n: 2 }, { delayMs: 100 });
    assert.equal(await queue.promote('promoted', { n: 10 }), true);
    await both.promise;
    assert.deepEqual(
      ran.sort((a, b) => a.id.localeCompare(b.id)),
      [
        { id: 'promoted', n: 10 },
        { id: 'soon', n: 2 },
      ],
    );
    assert.equal(await queue.promote('promoted', { n: 11 }), false, 'a finished job is not waiting any more');
    assert.equal(await queue.promote('never-added', { n: 12 }), false);
    await queue.close();
  });

  it('gives up after the last attempt, and at once on a permanent failure', async () => {
    const queue = open()(FAST_RETRY);
    const seen: string[] = [];
    const finished = until(() => seen.length === FAST_RETRY.maxAttempts + 1);
    queue.work(async (job) => {
      seen.push(`${job.id}#${job.attempt}`);
      finished.tick();
      if (job.id === 'refused') throw new PermanentJobFailure('400 Bad Request');
      throw new Error('503');
    });
    await queue.add('refused', { n: 1 });
    await queue.add('down', { n: 2 });
    await finished.promise;
    await new Promise((r) => setTimeout(r, 200));
    await queue.close();
    assert.deepEqual(
      seen.filter((s) => s.startsWith('refused')),
      ['refused#1'],
    );
    assert.deepEqual(
      seen.filter((s) => s.startsWith('down')),
      ['down#1', 'down#2', 'down#3', 'down#4'],
    );
  });
}
