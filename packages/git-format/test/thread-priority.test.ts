import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { workerMain } from '../src/pack/parallel/thread-modules.js';
import { BACKGROUND_NICE, lowerHelperThreadsPriority, lowerThisThreadPriority } from '../src/thread-priority.js';

/** The nice value of thread `tid` of this process (field 19 of its stat). */
function niceOf(tid: number | string): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

const linux = existsSync('/proc/self/task');

test('a worker thread lowers its own priority, and a main thread never does', { skip: !linux && 'needs Linux /proc' }, async () => {
  const mainBefore = niceOf(process.pid);
  lowerThisThreadPriority();
  assert.equal(niceOf(process.pid), mainBefore, 'the event loop keeps its priority');
  const worker = new Worker(workerMain(new URL('./thread-priority-fixture.ts', import.meta.url).href));
  try {
    const tid = await new Promise<string>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    assert.equal(niceOf(tid), BACKGROUND_NICE);
  } finally {
    await worker.terminate();
  }
});

test("the process's helper threads are lowered, the main thread is not", { skip: !linux && 'needs Linux /proc' }, () => {
  const mainBefore = niceOf(process.pid);
  lowerHelperThreadsPriority();
  const helpers = readdirSync('/proc/self/task').filter((tid) => Number(tid) !== process.pid);
  assert.ok(helpers.length > 0);
  for (const tid of helpers) assert.ok(niceOf(tid) >= BACKGROUND_NICE, `thread ${tid}`);
  assert.equal(niceOf(process.pid), mainBefore);
});

test(
  'a process lowered as a whole runs every thread at background priority, those it starts later too',
  { skip: !linux && 'needs Linux /proc' },
  () => {
    const fixture = new URL('./process-priority-fixture.ts', import.meta.url).pathname;
    const output = execFileSync(process.execPath, ['--import', 'tsx', fixture], { encoding: 'utf8' });
    const { main, helpers } = JSON.parse(output) as { main: number; helpers: number[] };
    assert.equal(main, BACKGROUND_NICE, 'the event loop too');
    assert.ok(helpers.length > 1);
    for (const nice of helpers) assert.equal(nice, BACKGROUND_NICE);
  },
);
