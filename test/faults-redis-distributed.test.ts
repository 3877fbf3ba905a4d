// A Redis connection lost after a compare-and-swap ran but before its answer arrived: ioredis
// sends the script again on the new connection, or gives the call up and the store sends it
// again itself. Either way the swap must take effect once and be reported as it happened, not as
// a conflict with its own write (a push then reported failed although its ref moved), nor as
// an error (an outcome the caller cannot know).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RedisKVStore, type RedisConnection } from '@gitfleet/storage';
import { deleteRedisNamespace, skipWithoutServer } from '@gitfleet/test-support/server-storage';
import { uniqueName } from '@gitfleet/test-support/stores';
import { FaultProxy } from '../scripts/fault-proxy.js';

const redisUrl = process.env.GITFLEET_TEST_REDIS_URL;
const skip = skipWithoutServer('GITFLEET_TEST_REDIS_URL');

let proxy: FaultProxy;
let kv: RedisKVStore;
let unresent: { proxy: FaultProxy; kv: RedisKVStore };
const namespace = uniqueName('lost-answer');

type RedisOptions = NonNullable<Extract<RedisConnection, { url: string }>['options']>;

async function throughProxy(options: RedisOptions = {}): Promise<{ proxy: FaultProxy; kv: RedisKVStore }> {
  const proxy = await FaultProxy.start({ target: new URL(redisUrl!).host, rate: 1, seed: 1, kinds: ['lose-answer'], maxFaults: 1 });
  proxy.enabled = false;
  return { proxy, kv: new RedisKVStore({ connection: { url: `redis://${proxy.address}`, options }, namespace }) };
}

before(async () => {
  if (skip) return;
  ({ proxy, kv } = await throughProxy());
  // ioredis fails what was in flight when the connection dropped (MaxRetriesPerRequestError) instead of sending it again.
  unresent = await throughProxy({ maxRetriesPerRequest: 0 });
});

after(async () => {
  if (skip) return;
  for (const side of [{ proxy, kv }, unresent]) {
    await side.kv.close();
    await side.proxy.close();
  }
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

test('a compare-and-swap that ioredis gave up on is sent again by the store, applied once and reported as applied', { skip }, async () => {
  assert.equal(await unresent.kv.get('other', 'refs/heads/main'), undefined, 'connected before the fault');
  unresent.proxy.enabled = true;
  const swap = [{ key: 'refs/heads/main', expect: null, value: 'new', log: { name: 'reflog', entry: 'created' } }];
  assert.deepEqual(await unresent.kv.compareAndSwap('other', swap, 'all'), { conflicts: [] });
  assert.equal(unresent.proxy.counts['lose-answer'], 1, 'the answer was lost once');
  assert.equal(await unresent.kv.get('other', 'refs/heads/main'), 'new');
  assert.deepEqual(await unresent.kv.readLog('other', 'reflog'), ['created'], 'applied once');
});
