import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PackIndex } from '@gitfleet/git-format';
import { PackIndexCache } from '../src/pack-index-cache.js';

// Only its size matters to the cache.
const index = { byteSize: 100 } as PackIndex;

test('PackIndexCache counts a lookup once: a peek that missed and the get after it are one miss', async () => {
  const cache = new PackIndexCache({ maxBytes: 1000 });
  let loads = 0;
  const load = async () => {
    loads++;
    return index;
  };
  assert.equal(cache.peek('a'), undefined);
  assert.equal(await cache.get('a', load), index);
  assert.equal(cache.peek('a'), index);
  assert.equal(await cache.get('a', load), index);
  assert.equal(loads, 1);
  assert.deepEqual(cache.stats(), { hits: 2, misses: 1, bytes: 100, maxBytes: 1000, entries: 1 });
});

test('PackIndexCache keeps an index larger than its whole budget, alone, rather than loading it for every lookup', async () => {
  const cache = new PackIndexCache({ maxBytes: 50 });
  let loads = 0;
  const load = async () => {
    loads++;
    return index;
  };
  await cache.get('big', load);
  assert.equal(cache.peek('big'), index);
  await cache.get('big', load);
  assert.equal(loads, 1);
  const other = { byteSize: 10 } as PackIndex;
  await cache.get('small', async () => other);
  assert.equal(cache.peek('big'), undefined, 'the next one evicts it: the budget still holds');
  assert.equal(cache.peek('small'), other);
});

test('PackIndexCache with no budget keeps nothing', async () => {
  const cache = new PackIndexCache({ maxBytes: 0 });
  await cache.get('a', async () => index);
  assert.equal(cache.peek('a'), undefined);
});
