import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PoolBusy, TaskTimedOut } from '@gitfleet/browse';
import { RenderPool } from '../src/web/render-pool.js';
import type { LineRun, RenderTask } from '../src/web/render-worker.js';

/** A rendering pool whose threads are replaced by `run`; `calls` counts the tasks it was given. */
function poolRunning(run: (task: RenderTask) => Promise<unknown>): { render: RenderPool; calls: () => number } {
  const render = new RenderPool({ threads: 1, maxQueue: 1 }, 1000);
  let calls = 0;
  const threads = render as unknown as { pool: { run: (task: RenderTask) => Promise<unknown>; close: () => Promise<void> } };
  threads.pool = {
    run: (task: RenderTask) => {
      calls++;
      return run(task);
    },
    close: threads.pool.close.bind(threads.pool),
  };
  return { render, calls: () => calls };
}

const marked = async (task: RenderTask) =>
  task.kind === 'lines' ? { lines: task.runs.map((run) => run.lines.map((line) => `<b>${line}</b>`)) } : { html: '' };

test('highlighted lines are cached by what they are: other lines are rendered, not given the cached ones', async () => {
  const { render, calls } = poolRunning(marked);
  const first: LineRun[] = [{ language: 'ts', lines: ['const a = 1;', 'const b = 2;'] }];
  const other: LineRun[] = [
    { language: 'ts', lines: ['let c;'] },
    { language: 'ts', lines: ['let c;', 'let d;'] },
  ];
  assert.deepEqual(await render.lines(first), [['<b>const a = 1;</b>', '<b>const b = 2;</b>']]);
  assert.deepEqual(await render.lines(other), [['<b>let c;</b>'], ['<b>let c;</b>', '<b>let d;</b>']]);
  assert.deepEqual(
    await render.lines([{ language: 'py', lines: ['let c;'] }]),
    [['<b>let c;</b>']],
    'another language is another rendering',
  );
  assert.equal(calls(), 3);
  assert.deepEqual(await render.lines(structuredClone(first)), [['<b>const a = 1;</b>', '<b>const b = 2;</b>']]);
  assert.equal(calls(), 3, 'the same lines again: from the cache');
  await render.close();
});

test('a render that took too long is remembered: the next view does not spend the time budget again', async () => {
  const { render, calls } = poolRunning(async () => {
    throw new TaskTimedOut('too slow');
  });
  const runs: LineRun[] = [{ language: 'ts', lines: ['x'] }];
  assert.equal(await render.lines(runs), undefined);
  assert.equal(await render.lines(runs), undefined);
  assert.equal(await render.codeRows('blob', Buffer.from('x'), 'ts'), undefined);
  assert.equal(await render.codeRows('blob', Buffer.from('x'), 'ts'), undefined);
  assert.equal(await render.markdown('readme', Buffer.from('# x'), '', { owner: 'o', name: 'r', ref: 'main' }), undefined);
  assert.equal(await render.markdown('readme', Buffer.from('# x'), '', { owner: 'o', name: 'r', ref: 'main' }), undefined);
  assert.equal(calls(), 3, 'one render each');
  await render.close();
});

test('a busy pool is not remembered: the next view renders', async () => {
  let busy = true;
  const { render, calls } = poolRunning(async (task) => {
    if (busy) throw new PoolBusy('busy');
    return marked(task);
  });
  const runs: LineRun[] = [{ language: 'ts', lines: ['x'] }];
  assert.equal(await render.lines(runs), undefined);
  busy = false;
  assert.deepEqual(await render.lines(runs), [['<b>x</b>']]);
  assert.equal(calls(), 2);
  await render.close();
});
