import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WORKER_INITIAL_OLD_SPACE_MIB, workerHeapOptions } from '../src/cluster/worker-heap.js';

test("workers start their old generation larger than V8's default", () => {
  const expected = [`--initial-old-space-size=${WORKER_INITIAL_OLD_SPACE_MIB}`];
  assert.deepEqual(workerHeapOptions([]), expected);
  assert.deepEqual(workerHeapOptions(['--conditions=@gitfleet/compiled', '--max-old-space-size=2048']), expected);
});

test("an operator's own initial heap size is left as it is", () => {
  assert.deepEqual(workerHeapOptions(['--initial-old-space-size=512']), []);
  assert.deepEqual(workerHeapOptions(['--enable-source-maps', '--initial_heap_size=300']), []);
});
