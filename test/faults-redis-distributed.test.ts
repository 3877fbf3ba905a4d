// A Redis connection lost after a compare-and-swap ran but before its answer arrived: ioredis
// sends the script again on the new connection. The swap must still take effect once and be
// reported as it happened, not as a conflict with its own write (a push then reported failed
// although its ref moved).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RedisKVStore } from '@gitfleet/storage';
import { deleteRedisNamespace, skipWithoutServer } from '@gitfleet/test-support/server-storage';
import { uniqueName } from '@gitfleet/test-support/stores';
import { FaultProxy } from '../scripts/fault-proxy.js';

const redisUrl = process.env.GITFLEET_TEST_REDIS_URL;
const skip = skipWithoutServer('GITFLEET_TEST_REDIS_URL');

let proxy: FaultProxy;
let kv: RedisKVStore;
const namespace = uniqueName('lost-answer');

before(async () => {
  if (skip) return;
  proxy = await FaultProxy.start({ target: new URL(redisUrl!).host, rate: 1, seed: 1, kinds: ['lose-answer'], maxFaults: 1 });
  proxy.enabled = false;
  kv = new RedisKVStore({ connection: { url: `redis://${proxy.address}` }, namespace });
});

after(async () => {
  if (skip) return;
  await kv.close();
  await proxy.close();
  await deleteRedisNamespace(redisUrl!, false, namespace);
});

test('a compare-and-swap whose answer was lost is applied once and reported as applied', { skip }, async () => {
  assert.equal(await kv.get('repo', 'refs/heads/main'), undefined, 'connected before the fault');
  proxy.enabled = true;
  const swap = [{ key: 'refs/heads/main', expect: null, value: 'new', log: { name: 'reflog', entry: 'created' } }];
  const result = await kv.compareAndSwap('repo', swap, 'all');
  assert.equal(proxy.counts['lose-answer'], 1, 'the answer was lost once');
  assert.deepEqual(result, { conflicts: [] });
  assert.equal(await kv.get('repo', 'refs/heads/main'), 'new');
  assert.deepEqual(await kv.readLog('repo', 'reflog'), ['created']);
  // A swap sent again by its caller, not by the connection, is a new request: it conflicts.
  assert.deepEqual(await kv.compareAndSwap('repo', swap, 'all'), { conflicts: [0] });
});
