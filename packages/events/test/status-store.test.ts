// Commit statuses in the KV store: ids, order, the latest status per context, the limits, deletion.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryKVStore, type CasOp, type KVStore } from '@gitfleet/storage';
import {
  STATUSES_PER_CONTEXT,
  StatusLimitReached,
  StatusStore,
  StatusesBusy,
  combinedState,
  type CommitStatus,
  type StatusFields,
} from '../src/index.js';

const SHA = 'a'.repeat(40);
const OTHER_SHA = 'b'.repeat(40);
const REPO = 'repo-1';
const roomy = { perContext: STATUSES_PER_CONTEXT, perCommit: 1000 };

function fields(context: string, state: StatusFields['state'] = 'success'): StatusFields {
  return { state, description: null, target_url: null, context };
}

const contexts = (statuses: CommitStatus[]) => statuses.map((status) => status.context);

describe('StatusStore', () => {
  it('gives ids in order per repository, lists a commit newest first, and keeps commits apart', async () => {
    const store = new StatusStore(new MemoryKVStore());
    const build = await store.append(REPO, SHA, fields('ci/build', 'pending'), roomy);
    const lint = await store.append(REPO, SHA, fields('ci/lint'), roomy);
    const elsewhere = await store.append(REPO, OTHER_SHA, fields('ci/build'), roomy);
    const otherRepo = await store.append('repo-2', SHA, fields('ci/build'), roomy);
    assert.deepEqual([build.id, lint.id, elsewhere.id, otherRepo.id], [1, 2, 3, 1]);
    assert.match(build.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(await store.list(REPO, SHA), [lint, build]);
    assert.deepEqual(await store.list(REPO, OTHER_SHA), [elsewhere]);
    assert.deepEqual(await store.list('repo-2', SHA), [otherRepo]);
  });

  it('keeps the latest status of each context, newest first, whatever the context is spelt with', async () => {
    const store = new StatusStore(new MemoryKVStore());
    await store.append(REPO, SHA, fields('ci build: unit/x', 'pending'), roomy);
    await store.append(REPO, SHA, fields('deploy'), roomy);
    const fixed = await store.append(REPO, SHA, fields('ci build: unit/x', 'failure'), roomy);
    const latest = await store.latest(REPO, SHA);
    assert.deepEqual(contexts(latest), ['ci build: unit/x', 'deploy']);
    assert.deepEqual(latest[0], fixed);
    assert.equal((await store.list(REPO, SHA)).length, 3);
  });

  it(`refuses the ${STATUSES_PER_CONTEXT + 1}st status of one commit and context, and stores nothing`, async () => {
    const store = new StatusStore(new MemoryKVStore());
    for (let i = 0; i < STATUSES_PER_CONTEXT; i++)
      await store.append(REPO, SHA, fields('ci'), { perContext: STATUSES_PER_CONTEXT, perCommit: 10_000 });
    await assert.rejects(
      store.append(REPO, SHA, fields('ci'), { perContext: STATUSES_PER_CONTEXT, perCommit: 10_000 }),
      (error: unknown) =>
        error instanceof StatusLimitReached && error.field === 'context' && /maximum number of statuses \(1000\)/.test(error.message),
    );
    assert.equal((await store.list(REPO, SHA)).length, STATUSES_PER_CONTEXT);
    // Another context of the same commit still has room.
    assert.equal(
      (await store.append(REPO, SHA, fields('lint'), { perContext: STATUSES_PER_CONTEXT, perCommit: 10_000 })).id,
      STATUSES_PER_CONTEXT + 1,
    );
  });

  it('refuses a status past the per-commit limit, all contexts together, known context or not', async () => {
    const store = new StatusStore(new MemoryKVStore());
    const limits = { perContext: STATUSES_PER_CONTEXT, perCommit: 3 };
    for (const context of ['a', 'b', 'c']) await store.append(REPO, SHA, fields(context), limits);
    for (const context of ['d', 'a']) {
      await assert.rejects(
        store.append(REPO, SHA, fields(context), limits),
        (error: unknown) =>
          error instanceof StatusLimitReached && error.field === 'sha' && /\(3, all contexts together\)/.test(error.message),
      );
    }
    assert.deepEqual(contexts(await store.list(REPO, SHA)), ['c', 'b', 'a']);
    assert.equal((await store.append(REPO, OTHER_SHA, fields('a'), limits)).id, 4, 'another commit has its own count');
  });

  it('gives concurrent appends distinct ids and keeps them all', async () => {
    const store = new StatusStore(new MemoryKVStore());
    const appended = await Promise.all(Array.from({ length: 12 }, (_, i) => store.append(REPO, SHA, fields(`parallel/${i % 3}`), roomy)));
    assert.deepEqual(
      appended.map((status) => status.id).sort((a, b) => a - b),
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
    assert.equal((await store.list(REPO, SHA)).length, 12);
    assert.equal((await store.latest(REPO, SHA)).length, 3);
  });

  it('gives up after 100 lost races for a status id', async () => {
    const kv = new MemoryKVStore();
    let attempts = 0;
    // Every compare-and-swap loses, as it would under a writer that always wins the race.
    const losing: KVStore = Object.assign(Object.create(kv) as KVStore, {
      compareAndSwap: async (_scope: string, ops: CasOp[]) => {
        attempts += 1;
        return { conflicts: ops.map((_op, index) => index) };
      },
    });
    const started = performance.now();
    await assert.rejects(new StatusStore(losing).append(REPO, SHA, fields('ci'), roomy), (error: unknown) => {
      assert.ok(error instanceof StatusesBusy, 'a busy store, for the API to answer 503');
      assert.match(error.message, /gave up after 100 lost races/);
      assert.equal(error.retryAfterSeconds, 1);
      return true;
    });
    assert.equal(attempts, 100);
    // Each attempt after the first waits at least half of min(2^n, 10) ms: about 480 ms in all.
    assert.ok(performance.now() - started >= 400, `the attempts back off (${Math.round(performance.now() - started)} ms)`);
  });

  it('deletes every status of one repository only', async () => {
    const kv = new MemoryKVStore();
    const store = new StatusStore(kv);
    await store.append(REPO, SHA, fields('ci'), roomy);
    await store.append(REPO, OTHER_SHA, fields('ci'), roomy);
    const kept = await store.append('repo-2', SHA, fields('ci'), roomy);
    await store.deleteAll(REPO);
    assert.deepEqual(await kv.scan(`statuses:${REPO}`, ''), []);
    assert.deepEqual(await store.latest(REPO, SHA), []);
    assert.deepEqual(await store.list('repo-2', SHA), [kept]);
    // Nothing of the scope is left, its id counter included.
    assert.equal((await store.append(REPO, SHA, fields('ci'), roomy)).id, 1);
  });
});

describe('combinedState', () => {
  const status = (state: CommitStatus['state']): CommitStatus => ({
    id: 1,
    state,
    description: null,
    target_url: null,
    context: 'ci',
    created_at: '',
  });

  it('is pending with no status, failure if any failed or errored, pending if any is pending, else success', () => {
    assert.equal(combinedState([]), 'pending');
    assert.equal(combinedState([status('success'), status('failure')]), 'failure');
    assert.equal(combinedState([status('pending'), status('error')]), 'failure');
    assert.equal(combinedState([status('success'), status('pending')]), 'pending');
    assert.equal(combinedState([status('success'), status('success')]), 'success');
  });
});
