// A ref transaction the Redis master applied but its replicas did not acknowledge in time (WAIT
// falls short): the caller must hear that the outcome is unknown — never success, never "nothing
// changed" — and the journal must have the transaction, so that recovery and the live system
// agree as long as the master keeps the write.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ZERO_OID } from '@gitfleet/git-format';
import { MemoryBlobStore, RedisKVStore } from '@gitfleet/storage';
import { deleteRedisNamespace, skipWithoutServer } from '@gitfleet/test-support/server-storage';
import { uniqueName } from '@gitfleet/test-support/stores';
import { journalBlobPrefix } from '../src/keys.js';
import { RepositoryRegistry, TransactionOutcomeUnknown, type Stores } from '../src/index.js';
import { caches } from './backends.js';

const redisUrl = process.env.GITFLEET_TEST_REDIS_URL;
const skip = skipWithoutServer('GITFLEET_TEST_REDIS_URL');

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const namespace = uniqueName('replica-ack');
const blobs = new MemoryBlobStore();
let unreplicated: RedisKVStore;
let waiting: RedisKVStore;

before(() => {
  if (skip) return;
  unreplicated = new RedisKVStore({ connection: { url: redisUrl! }, namespace });
  // The test's Redis has no replica, so every write that takes effect falls short of one.
  waiting = new RedisKVStore({ connection: { url: redisUrl! }, namespace, waitReplicas: 1, waitTimeoutMs: 20 });
});

after(async () => {
  if (skip) return;
  await unreplicated.close();
  await waiting.close();
  await deleteRedisNamespace(redisUrl!, false, namespace);
});

test('a ref update too few replicas acknowledged reports an unknown outcome and is journaled', { skip }, async () => {
  const stores = (kv: RedisKVStore): Stores => ({ kv, blobs, ...caches() });
  const created = await new RepositoryRegistry(stores(unreplicated)).create('octo', 'hello');
  await created.refs.update([{ name: 'refs/heads/main', oldOid: ZERO_OID, newOid: A }], { atomic: true, message: 'push' });
  const repo = (await new RepositoryRegistry(stores(waiting)).open('octo', 'hello'))!;

  await assert.rejects(
    repo.refs.update([{ name: 'refs/heads/main', oldOid: A, newOid: B }], { atomic: true, message: 'push' }),
    (error: Error) =>
      error instanceof TransactionOutcomeUnknown && /outcome is unknown/.test(error.message) && /replicas/.test(error.message),
  );
  // The master has the write (it stays unless a failover loses it), and so does the journal.
  assert.equal(await repo.refs.get('refs/heads/main'), B);
  const entries: string[] = [];
  for await (const blob of blobs.list(`${journalBlobPrefix(repo.info.id)}entry-`)) entries.push(blob.key);
  const last = JSON.parse((await blobs.get(entries.at(-1)!))!.toString('utf8')) as { refs: Array<{ name: string; newOid: string }> };
  assert.deepEqual(
    last.refs.map(({ name, newOid }) => ({ name, newOid })),
    [{ name: 'refs/heads/main', newOid: B }],
  );
});

test('a ref update that changed nothing does not wait for replicas and reports the conflict', { skip }, async () => {
  const repo = (await new RepositoryRegistry({ kv: waiting, blobs, ...caches() }).open('octo', 'hello'))!;
  const conflicts = await repo.refs.update([{ name: 'refs/heads/main', oldOid: A, newOid: B }], { atomic: true, message: 'push' });
  assert.deepEqual(
    conflicts.map((conflict) => conflict.name),
    ['refs/heads/main'],
  );
});

test('a fence found already set counts only once it is replicated: a retry after a WAIT shortfall waits again', { skip }, async () => {
  const repo = (await new RepositoryRegistry({ kv: waiting, blobs, ...caches() }).open('octo', 'hello'))!;
  await assert.rejects(repo.refs.fence('tx-unreplicated'), (error: Error) => error.name === 'ReplicaAckError');
  // The master has the fence; its replicas still do not.
  await assert.rejects(repo.refs.fence('tx-unreplicated'), (error: Error) => error.name === 'ReplicaAckError');
  const replicated = (await new RepositoryRegistry({ kv: unreplicated, blobs, ...caches() }).open('octo', 'hello'))!;
  await replicated.refs.fence('tx-unreplicated');
});
