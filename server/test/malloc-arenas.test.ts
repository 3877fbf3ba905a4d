import assert from 'node:assert/strict';
import { test } from 'node:test';
import { workerMallocEnv } from '../src/cluster/malloc-arenas.js';

test('workers get one malloc arena by default', () => {
  assert.deepEqual(workerMallocEnv({}), { MALLOC_ARENA_MAX: '1' });
  assert.deepEqual(workerMallocEnv({ GLIBC_TUNABLES: 'glibc.malloc.tcache_count=0' }), { MALLOC_ARENA_MAX: '1' });
});

test("an operator's own arena setting is left as it is", () => {
  assert.deepEqual(workerMallocEnv({ MALLOC_ARENA_MAX: '4' }), {});
  assert.deepEqual(workerMallocEnv({ GLIBC_TUNABLES: 'glibc.malloc.check=0:glibc.malloc.arena_max=2' }), {});
});
