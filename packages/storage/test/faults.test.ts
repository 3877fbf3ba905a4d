import assert from 'node:assert/strict';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import {
  FaultInjector,
  FsBlobStore,
  InjectedFault,
  InterceptedBlobStore,
  InterceptedKVStore,
  MemoryBlobStore,
  MemoryKVStore,
  RequestCounter,
  type BlobStore,
} from '@gitfleet/storage';
import { runBlobStoreConformance, runKVStoreConformance } from '@gitfleet/storage/conformance';
import { tempDir } from '@gitfleet/test-support/temp-dir';

// The wrappers change nothing when they inject nothing: the whole contract holds through them.
runBlobStoreConformance('InterceptedBlobStore (counting) over MemoryBlobStore', async () => ({
  store: new InterceptedBlobStore(new MemoryBlobStore(), new RequestCounter()),
  cleanup: async () => {},
}));
runKVStoreConformance('InterceptedKVStore (counting) over MemoryKVStore', async () => ({
  store: new InterceptedKVStore(new MemoryKVStore(), new RequestCounter()),
  cleanup: async () => {},
}));

const BYTES = Buffer.from(Array.from({ length: 200_000 }, (_, i) => i % 251));

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Runs `count` gets of a stored blob through an injector; returns which of them failed. */
async function failedGets(injector: FaultInjector, count: number): Promise<number[]> {
  const inner = new MemoryBlobStore();
  await inner.putIfAbsent('a', Buffer.from('a'));
  const store = new InterceptedBlobStore(inner, injector);
  const failed: number[] = [];
  for (let i = 0; i < count; i++) await store.get('a').catch(() => failed.push(i));
  return failed;
}

describe('FaultInjector', () => {
  test('the same seed faults the same requests; another seed others', async () => {
    const options = { rate: 0.2, kinds: ['error'] as const };
    const first = await failedGets(new FaultInjector({ seed: 7, ...options }), 200);
    assert.deepEqual(await failedGets(new FaultInjector({ seed: 7, ...options }), 200), first);
    assert.notDeepEqual(await failedGets(new FaultInjector({ seed: 8, ...options }), 200), first);
    // About the share asked for.
    assert.ok(first.length > 20 && first.length < 60, `${first.length} of 200 faulted at rate 0.2`);
  });

  test('faults are typed, logged in request order, and stop when switched off', async () => {
    const injector = new FaultInjector({ seed: 1, rate: 1, kinds: ['error'] });
    const kv = new InterceptedKVStore(new MemoryKVStore(), injector);
    await assert.rejects(kv.compareAndSwap('s', [{ key: 'k', expect: null, value: 'v' }], 'all'), (error: unknown) => {
      assert.ok(error instanceof InjectedFault);
      assert.equal(error.kind, 'error');
      assert.match(error.message, /kv\.compareAndSwap s/);
      return true;
    });
    await assert.rejects(kv.get('s', 'k'), InjectedFault);
    assert.deepEqual(
      injector.injected.map(({ request, operation, kind }) => ({ request, operation, kind })),
      [
        { request: 1, operation: 'kv.compareAndSwap', kind: 'error' },
        { request: 2, operation: 'kv.get', kind: 'error' },
      ],
    );
    injector.enabled = false;
    assert.deepEqual(await kv.compareAndSwap('s', [{ key: 'k', expect: null, value: 'v' }], 'all'), { conflicts: [] });
    assert.equal(await kv.get('s', 'k'), 'v');
  });

  test('an error never reaches the store; a timeout does, and still fails', async () => {
    const inner = new MemoryKVStore();
    const refused = new InterceptedKVStore(inner, new FaultInjector({ seed: 1, rate: 1, kinds: ['error'] }));
    await assert.rejects(refused.compareAndSwap('s', [{ key: 'a', expect: null, value: '1' }], 'all'), InjectedFault);
    assert.equal(await inner.get('s', 'a'), undefined);
    const unanswered = new InterceptedKVStore(inner, new FaultInjector({ seed: 1, rate: 1, kinds: ['timeout'], delayMs: 1 }));
    await assert.rejects(unanswered.compareAndSwap('s', [{ key: 'a', expect: null, value: '1' }], 'all'), /timeout.*may have taken effect/);
    assert.equal(await inner.get('s', 'a'), '1');
  });

  test('a slow answer is the right answer', async () => {
    const inner = new MemoryBlobStore();
    await inner.putIfAbsent('k', BYTES);
    const store = new InterceptedBlobStore(inner, new FaultInjector({ seed: 3, rate: 1, kinds: ['slow'], delayMs: 1 }));
    assert.deepEqual(await store.get('k', { start: 5, end: 10 }), BYTES.subarray(5, 10));
    assert.deepEqual(await readAll((await store.getStream('k'))!), BYTES);
  });

  test('a cut read stream gives a prefix of the bytes, then an error', async () => {
    const inner = new MemoryBlobStore();
    await inner.putIfAbsent('k', BYTES);
    for (let seed = 0; seed < 10; seed++) {
      const store = new InterceptedBlobStore(inner, new FaultInjector({ seed, rate: 1, kinds: ['cut'] }));
      const stream = (await store.getStream('k'))!;
      const received: Buffer[] = [];
      await assert.rejects(async () => {
        for await (const chunk of stream) received.push(chunk as Buffer);
      }, /body cut after \d+ bytes/);
      const prefix = Buffer.concat(received);
      assert.ok(prefix.length < BYTES.length);
      assert.deepEqual(prefix, BYTES.subarray(0, prefix.length));
    }
  });

  for (const backend of ['memory', 'fs'] as const) {
    test(`an upload whose body is cut leaves nothing in the store (${backend})`, async (t) => {
      const inner: BlobStore =
        backend === 'memory' ? new MemoryBlobStore() : await FsBlobStore.open(path.join(tempDir(t, 'faults'), 'blobs'));
      t.after(() => inner.close());
      const store = new InterceptedBlobStore(inner, new FaultInjector({ seed: 5, rate: 1, kinds: ['cut'] }));
      await assert.rejects(store.putIfAbsent('buffer', BYTES), InjectedFault);
      await assert.rejects(store.putIfAbsent('stream', { size: BYTES.length, open: () => Readable.from([BYTES]) }), InjectedFault);
      assert.equal(await inner.head('buffer'), undefined);
      assert.equal(await inner.head('stream'), undefined);
      assert.equal(await inner.putIfAbsent('stream', BYTES), true, 'nothing half-written blocks a later write');
      assert.deepEqual(await inner.get('stream'), BYTES);
    });
  }

  test('a faulted listing fails at its start', async () => {
    const inner = new MemoryBlobStore();
    await inner.putIfAbsent('a/1', BYTES);
    const store = new InterceptedBlobStore(inner, new FaultInjector({ seed: 2, rate: 1, kinds: ['error'] }));
    await assert.rejects(async () => {
      for await (const info of store.list('a/')) assert.fail(`listed ${info.key}`);
    }, InjectedFault);
  });
});

test('RequestCounter counts requests by operation, listings once', async () => {
  const counter = new RequestCounter();
  const blobs = new InterceptedBlobStore(new MemoryBlobStore(), counter);
  const kv = new InterceptedKVStore(new MemoryKVStore(), counter);
  await blobs.putIfAbsent('p/1', BYTES);
  await blobs.putIfAbsent('p/2', BYTES);
  await blobs.get('p/1');
  for await (const info of blobs.list('p/')) assert.ok(info.size > 0);
  await kv.compareAndSwap('s', [{ key: 'k', expect: null, value: 'v' }], 'all');
  await kv.getMany('s', ['k', 'l']);
  assert.deepEqual(counter.snapshot(), { 'blob.get': 1, 'blob.list': 1, 'blob.putIfAbsent': 2, 'kv.compareAndSwap': 1, 'kv.getMany': 1 });
  assert.equal(counter.total(), 6);
  counter.reset();
  assert.deepEqual(counter.snapshot(), {});
});
