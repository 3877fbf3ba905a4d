import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ZERO_OID } from '@gitfleet/git-format';
import { MemoryBlobStore, MemoryKVStore, type BlobStore } from '@gitfleet/storage';
import { findJournaledTransaction, RepositoryRegistry } from '../src/index.js';
import { caches } from './backends.js';

/** Counts the listings a lookup makes: each is one request to an object store. */
function countingListings(blobs: BlobStore): BlobStore & { listings: number } {
  const store = Object.create(blobs) as BlobStore & { listings: number };
  store.listings = 0;
  store.list = (prefix) => {
    store.listings++;
    return blobs.list(prefix);
  };
  return store;
}

test('finds a transaction by its message a window of entries at a time, also past a KV store that fell behind', async () => {
  const blobs = countingListings(new MemoryBlobStore());
  const kv = new MemoryKVStore();
  const repo = await new RepositoryRegistry({ kv, blobs, ...caches() }).create('octo', 'busy');
  let previous = ZERO_OID;
  for (let i = 1; i <= 250; i++) {
    const next = i.toString(16).padStart(40, '0');
    await repo.refs.update([{ name: 'refs/heads/main', oldOid: previous, newOid: next }], { atomic: true, message: `push ${i}` });
    previous = next;
  }
  blobs.listings = 0;
  const recent = await findJournaledTransaction({ blobs, kv }, repo.info.id, 'push 249', 0);
  assert.equal(recent?.refs[0].newOid, (249).toString(16).padStart(40, '0'));
  assert.ok(blobs.listings <= 2, `a recent transaction costs a listing or two, not the whole journal: ${blobs.listings}`);

  assert.equal((await findJournaledTransaction({ blobs, kv }, repo.info.id, 'push 3', 0))?.message, 'push 3', 'older windows are read too');
  assert.equal(await findJournaledTransaction({ blobs, kv }, repo.info.id, 'never', Date.now() + 3_600_000), undefined);

  // The KV store restored from an old snapshot: its sequence number is far behind the journal.
  const scope = `repo:${repo.info.id}`;
  const seq = (await kv.get(scope, 'journal:seq'))!;
  await kv.compareAndSwap(scope, [{ key: 'journal:seq', expect: seq, value: '20' }], 'all');
  assert.equal((await findJournaledTransaction({ blobs, kv }, repo.info.id, 'push 250', 0))?.message, 'push 250');
});
