import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ZERO_OID } from '@gitfleet/git-format';
import { InterceptedKVStore, MemoryBlobStore, MemoryKVStore, RequestCounter } from '@gitfleet/storage';
import { KVRefDB } from '../src/ref-db.js';
import { RefListingCache } from '../src/ref-listing-cache.js';
import { Repository, type Stores } from '../src/repository.js';
import { BlockCache } from '../src/block-cache.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const INFO = { id: 'cached-repo', owner: 'o', name: 'r', createdAt: '2026-01-01T00:00:00Z', private: false, description: '' };

/** One process's view of shared stores: its own listing cache, and a count of its KV requests. */
function processOn(shared: { blobs: MemoryBlobStore; kv: MemoryKVStore }) {
  const counter = new RequestCounter();
  const stores: Stores = {
    blobs: shared.blobs,
    kv: new InterceptedKVStore(shared.kv, counter),
    cache: new BlockCache({ blockSize: 65536, maxBytes: 1 << 20 }),
    refListings: new RefListingCache(1 << 20),
  };
  return { repo: new Repository(INFO, stores), scans: () => counter.snapshot()['kv.scan'] ?? 0 };
}

test("a listing is read again only when the repository's refs changed, whichever process changed them", async () => {
  const shared = { blobs: new MemoryBlobStore(), kv: new MemoryKVStore() };
  const one = processOn(shared);
  const other = processOn(shared);
  await one.repo.refs.update([{ name: 'refs/heads/main', oldOid: ZERO_OID, newOid: A }], { atomic: true, message: 'push' });

  assert.deepEqual(await one.repo.refs.list(), [{ name: 'refs/heads/main', oid: A }]);
  const scansAfterFirst = one.scans();
  const listed = await one.repo.refs.list();
  assert.deepEqual(listed, [{ name: 'refs/heads/main', oid: A }]);
  assert.equal(one.scans(), scansAfterFirst, 'the second listing comes from the cache');
  listed.pop();
  assert.equal((await one.repo.refs.list()).length, 1, "a caller's changes to its list do not reach the cache");

  // Another process moves a ref and adds one: this process's next listing sees both.
  await other.repo.refs.update(
    [
      { name: 'refs/heads/main', oldOid: A, newOid: B },
      { name: 'refs/tags/v1', oldOid: ZERO_OID, newOid: A },
    ],
    { atomic: true, message: 'push' },
  );
  assert.deepEqual(await one.repo.refs.list(), [
    { name: 'refs/heads/main', oid: B },
    { name: 'refs/tags/v1', oid: A },
  ]);
  assert.equal(one.scans(), scansAfterFirst + 1);
  assert.deepEqual(await one.repo.refs.list('refs/tags/'), [{ name: 'refs/tags/v1', oid: A }], 'each prefix is its own listing');

  // A deletion too.
  await other.repo.refs.update([{ name: 'refs/tags/v1', oldOid: A, newOid: ZERO_OID }], { atomic: true, message: 'delete' });
  assert.deepEqual(await one.repo.refs.list(), [{ name: 'refs/heads/main', oid: B }]);
});

test('refs written without the journal (no sequence number to check) are scanned every time', async () => {
  const kv = new MemoryKVStore();
  const counter = new RequestCounter();
  const counted = new InterceptedKVStore(kv, counter);
  await new KVRefDB(INFO.id, kv).update([{ name: 'refs/heads/main', oldOid: ZERO_OID, newOid: A }], { atomic: true, message: 'push' });
  const repo = new Repository(INFO, {
    blobs: new MemoryBlobStore(),
    kv: counted,
    cache: new BlockCache({ blockSize: 65536, maxBytes: 1 << 20 }),
    refListings: new RefListingCache(1 << 20),
  });
  await repo.refs.list();
  await repo.refs.list();
  assert.equal(counter.snapshot()['kv.scan'], 2);
  await new KVRefDB(INFO.id, kv).update([{ name: 'refs/heads/main', oldOid: A, newOid: B }], { atomic: true, message: 'push' });
  assert.deepEqual(await repo.refs.list(), [{ name: 'refs/heads/main', oid: B }]);
});
