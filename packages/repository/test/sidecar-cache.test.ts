import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PackIndex } from '@gitfleet/git-format';
import { SidecarCache, UNUSABLE_SIDECAR_RETRY_MS } from '../src/sidecar-cache.js';

const pack = { packChecksum: 'a'.repeat(40), objectCount: 10 } as PackIndex;

test('a sidecar that could not be loaded is asked for again only after the retry delay', async () => {
  let now = 0;
  const cache = new SidecarCache<string>(1 << 20, 8, () => now);
  let loads = 0;
  const missing = async () => {
    loads++;
    return undefined;
  };
  assert.equal(await cache.get('r', pack, missing), undefined);
  assert.equal(await cache.get('r', pack, missing), undefined);
  now += UNUSABLE_SIDECAR_RETRY_MS - 1;
  assert.equal(await cache.get('r', pack, missing), undefined);
  assert.equal(loads, 1, 'within the delay, the failed load stands');
  now += 1;
  assert.equal(await cache.get('r', pack, async () => 'loaded'), 'loaded');
  assert.equal(await cache.get('r', pack, missing), 'loaded', 'a sidecar loaded is kept');
  assert.equal(loads, 1);
});

test('a sidecar loaded is kept, and loads at once share one load', async () => {
  const cache = new SidecarCache<string>(1 << 20, 8);
  let loads = 0;
  const load = async () => {
    loads++;
    return 'graph';
  };
  const [a, b] = await Promise.all([cache.get('r', pack, load), cache.get('r', pack, load)]);
  assert.deepEqual([a, b, await cache.get('r', pack, load)], ['graph', 'graph', 'graph']);
  assert.equal(loads, 1);
});
