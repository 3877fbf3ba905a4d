// Whether a recorded push committed, decided from durable state (reflog, fence, journal) on
// real repositories of each store backend, never from the age of the record.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { ZERO_OID } from '@gitfleet/git-format';
import { BlockCache, Repository, findJournaledTransaction, type RefDB } from '@gitfleet/repository';
import { MemoryBlobStore, MemoryKVStore } from '@gitfleet/storage';
import type { CleanupOwner } from '@gitfleet/test-support/temp-dir';
import { createRepository, redisKvBackends, storesBackends, type StoresBackend } from '@gitfleet/test-support/stores';
import { settleRefTransaction, type JournalLookup, type RecordedTransaction, type Settlement } from '../src/outbox/settle-transaction.js';
import { MIN_FENCE_AGE_MS, mayFenceNow } from '../src/outbox/settle-transaction.js';

const caches = () => ({ cache: new BlockCache({ blockSize: 4096, maxBytes: 64 * 1024 }) });
/** The embedded stores, and the refs on real Redis (its compare-and-swap is a Lua script of its own). */
const backends: StoresBackend[] = [
  ...storesBackends(caches),
  ...redisKvBackends.map((kv) => ({
    name: kv.name,
    open: async (t: CleanupOwner) => ({ blobs: new MemoryBlobStore(), kv: kv.open(t), ...caches() }),
  })),
];
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

let transactions = 0;

function recorded(updates: RecordedTransaction['updates'], settled = false): RecordedTransaction {
  const fence = `tx-${++transactions}`;
  return { fence, updates, reflogMessage: `push (events ${fence})`, settled, recordedAt: Date.now() };
}

/** The journal of each repository's refs, as the webhook service reads it. */
const journals = new WeakMap<RefDB, JournalLookup>();

function journalOf(repo: Repository): JournalLookup {
  return (message, notBefore) => findJournaledTransaction(repo.stores, repo.info.id, message, notBefore);
}

function settle(refs: RefDB, record: RecordedTransaction): Promise<Settlement | undefined> {
  return settleRefTransaction(refs, journals.get(refs)!, record, true);
}

/** The push's own compare-and-swap, as receive-pack makes it. */
function pushUpdate(refs: RefDB, record: RecordedTransaction, atomic = true) {
  return refs.update(record.updates, { atomic, message: record.reflogMessage, fence: record.fence });
}

for (const backend of backends) {
  describe(`settleRefTransaction (${backend.name})`, () => {
    async function refsWith(t: TestContext, refs: Record<string, string>): Promise<RefDB> {
      const repo = await createRepository(await backend.open(t));
      const updates = Object.entries(refs).map(([name, oid]) => ({ name, oldOid: ZERO_OID, newOid: oid }));
      if (updates.length > 0) assert.deepEqual(await repo.refs.update(updates, { atomic: true, message: 'setup' }), []);
      journals.set(repo.refs, journalOf(repo));
      return repo.refs;
    }

    it('a committed update is delivered, whether or not the pusher lived to say so', async (t) => {
      const refs = await refsWith(t, { 'refs/heads/main': A });
      const record = recorded([{ name: 'refs/heads/main', oldOid: A, newOid: B }]);
      assert.deepEqual(await pushUpdate(refs, record), []);
      assert.deepEqual(await settle(refs, record), { applied: record.updates, by: 'reflog' });
      assert.deepEqual(await settle(refs, { ...record, settled: true }), { applied: record.updates, by: 'reflog' });
    });

    it('of a non-atomic push, only the updates the compare-and-swap applied', async (t) => {
      const refs = await refsWith(t, { 'refs/heads/main': A, 'refs/heads/topic': A });
      const record = recorded([
        { name: 'refs/heads/main', oldOid: A, newOid: B },
        // Stale: topic is at A, not C.
        { name: 'refs/heads/topic', oldOid: C, newOid: B },
      ]);
      assert.equal((await pushUpdate(refs, record, false)).length, 1);
      assert.deepEqual(await settle(refs, record), { applied: [record.updates[0]], by: 'reflog' });
    });

    it('a compare-and-swap that returned having applied nothing: no events, and no fence needed', async (t) => {
      const refs = await refsWith(t, { 'refs/heads/main': A });
      const record = recorded([{ name: 'refs/heads/main', oldOid: C, newOid: B }], true);
      assert.equal((await pushUpdate(refs, record)).length, 1);
      assert.deepEqual(await settle(refs, record), { applied: [], by: 'pusher-returned' });
      // Not fenced: the same update, were it still to come, could apply (it cannot, the pusher returned).
      const again = await refs.update([{ name: 'refs/heads/main', oldOid: A, newOid: C }], {
        atomic: true,
        message: record.reflogMessage,
        fence: record.fence,
      });
      assert.deepEqual(again, []);
    });

    it('a pusher that never said: the fence makes "not committed" final, even for its own update arriving late', async (t) => {
      const refs = await refsWith(t, { 'refs/heads/main': A });
      const record = recorded([
        { name: 'refs/heads/main', oldOid: A, newOid: B },
        { name: 'refs/heads/new', oldOid: ZERO_OID, newOid: B },
      ]);
      assert.deepEqual(await settle(refs, record), { applied: [], by: 'fence' });
      // The pusher wakes up after the decision, atomic or not: nothing of it may apply now.
      for (const atomic of [true, false]) {
        assert.deepEqual(
          (await pushUpdate(refs, record, atomic)).map((conflict) => conflict.kind),
          ['fenced', 'fenced'],
        );
      }
      assert.equal(await refs.get('refs/heads/main'), A);
      assert.equal(await refs.get('refs/heads/new'), undefined);
      assert.deepEqual(await settle(refs, record), { applied: [], by: 'fence' }, 'the same answer when asked again');
      // Other pushes are not held back by the fence.
      assert.deepEqual(await pushUpdate(refs, recorded([{ name: 'refs/heads/main', oldOid: A, newOid: C }])), []);
    });

    it('not allowed to fence yet, an update not shown is left unknown, and may still apply', async (t) => {
      const refs = await refsWith(t, { 'refs/heads/main': A });
      const record = recorded([{ name: 'refs/heads/main', oldOid: A, newOid: B }]);
      assert.equal(await settleRefTransaction(refs, journals.get(refs)!, record, false), undefined);
      assert.deepEqual(await pushUpdate(refs, record), []);
      assert.deepEqual(await settleRefTransaction(refs, journals.get(refs)!, record, false), { applied: record.updates, by: 'reflog' });
    });

    it('a ref that left and came back to its old id (ABA) does not let the fenced update in', async (t) => {
      const refs = await refsWith(t, { 'refs/heads/main': A });
      const record = recorded([{ name: 'refs/heads/main', oldOid: A, newOid: B }]);
      await refs.update([{ name: 'refs/heads/main', oldOid: A, newOid: C }], { atomic: true, message: 'other' });
      assert.deepEqual(await settle(refs, record), { applied: [], by: 'fence' });
      await refs.update([{ name: 'refs/heads/main', oldOid: C, newOid: A }], { atomic: true, message: 'other' });
      assert.equal((await pushUpdate(refs, record)).length, 1);
      assert.equal(await refs.get('refs/heads/main'), A);
    });

    it('an update that commits just before the fence is found by the read after it', async (t) => {
      const refs = await refsWith(t, { 'refs/heads/main': A });
      const record = recorded([{ name: 'refs/heads/main', oldOid: A, newOid: B }]);
      // The pusher's compare-and-swap lands between the first read of the reflog and the fence.
      const racing: Pick<RefDB, 'reflog' | 'fence'> = {
        reflog: (name, limit) => refs.reflog(name, limit),
        fence: async (name) => {
          assert.deepEqual(await pushUpdate(refs, record), []);
          await refs.fence(name);
        },
      };
      assert.deepEqual(await settleRefTransaction(racing, journals.get(refs)!, record, true), { applied: record.updates, by: 'fence' });
    });

    it('a KV store rebuilt from the journal has no reflogs: the journal says what committed', async (t) => {
      const stores = await backend.open(t);
      const repo = await createRepository(stores);
      const record = recorded([
        { name: 'refs/heads/main', oldOid: ZERO_OID, newOid: A },
        { name: 'refs/heads/other', oldOid: ZERO_OID, newOid: B },
      ]);
      assert.deepEqual(await pushUpdate(repo.refs, record), []);
      // The same repository over an empty KV store: its blobs (the journal) are all that is left.
      const rebuilt = new Repository(repo.info, { ...stores, kv: new MemoryKVStore() });
      assert.deepEqual(await rebuilt.refs.reflog('refs/heads/main'), []);
      for (const settled of [false, true]) {
        assert.deepEqual(await settleRefTransaction(rebuilt.refs, journalOf(rebuilt), { ...record, settled }, true), {
          applied: record.updates,
          by: 'journal',
        });
      }
      // A transaction that never committed is not found there either.
      const never = recorded(record.updates);
      assert.deepEqual(await settleRefTransaction(rebuilt.refs, journalOf(rebuilt), never, true), { applied: [], by: 'fence' });
    });

    it("another transaction's entry with the same ids is not taken for ours", async (t) => {
      const refs = await refsWith(t, { 'refs/heads/main': A });
      const ours = recorded([{ name: 'refs/heads/main', oldOid: A, newOid: B }]);
      await pushUpdate(refs, recorded(ours.updates));
      assert.deepEqual(await settle(refs, ours), { applied: [], by: 'fence' });
    });
  });
}

describe('when the fence may be set', () => {
  const recordedAt = 1_000_000;
  const fenceAgeMs = Math.max(300, MIN_FENCE_AGE_MS);

  it('never on the first run, however old the record', () => {
    assert.equal(mayFenceNow({ recordedAt }, 1, fenceAgeMs, recordedAt + 10 * fenceAgeMs), false);
  });

  it('on a retry only once the record is as old as the fence age: a live push slower than the retry backoff is not fenced', () => {
    // The second run comes about a second after the recovery delay; a push held by a failover is still on its way then.
    assert.equal(mayFenceNow({ recordedAt }, 2, fenceAgeMs, recordedAt + 1_300), false);
    assert.equal(mayFenceNow({ recordedAt }, 7, fenceAgeMs, recordedAt + fenceAgeMs - 1), false);
    assert.equal(mayFenceNow({ recordedAt }, 7, fenceAgeMs, recordedAt + fenceAgeMs), true);
  });

  it('covers a Redis failover: the command queueing of ioredis, WAIT and a promotion window', () => {
    assert.ok(MIN_FENCE_AGE_MS >= 30_000 + 11_000 + 1_000);
  });
});
