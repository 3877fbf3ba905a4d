import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FaultInjector, InterceptedBlobStore, MemoryBlobStore, type BlobOperation, type BlobStore } from '@gitfleet/storage';
import { kvBackends, redisKvBackends } from '@gitfleet/test-support/stores';
import { InvalidLockPath, LockExists, LockNotDurable, LockStore, TooManyLocks, foldLockPath, normalizeLockPath } from '../src/index.js';
import { lfsLockBlobKey, lfsLockBlobPrefix } from '../src/keys.js';

const REPO = 'a1b2c3';

/** A blob store whose `operation` requests fail (`error`: not performed; `timeout`: performed, the answer lost) while `enabled`. */
function failing(
  operation: BlobOperation,
  kind: 'error' | 'timeout',
): { blobs: BlobStore; inner: MemoryBlobStore; injector: FaultInjector } {
  const inner = new MemoryBlobStore();
  const injector = new FaultInjector({ seed: 1, rate: 1, kinds: [kind], delayMs: 0, faultable: (call) => call.operation === operation });
  return { blobs: new InterceptedBlobStore(inner, injector), inner, injector };
}

async function lockBlobs(blobs: BlobStore): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for await (const { key } of blobs.list(lfsLockBlobPrefix(REPO))) found.set(key, (await blobs.get(key))!.toString('utf8'));
  return found;
}

describe('normalizeLockPath', () => {
  it('normalises separators and "." components', () => {
    assert.equal(normalizeLockPath('./assets//big.bin', 100), 'assets/big.bin');
    assert.equal(normalizeLockPath('dir/./é x.psd/', 100), 'dir/é x.psd');
  });

  it('refuses what names no file of a tree', () => {
    for (const path of ['', '/etc/passwd', 'a/../b', '..', 'a\0b', '.', '//', 'x'.repeat(11), 'a\uD800b', 42, undefined]) {
      assert.throws(() => normalizeLockPath(path, 10), InvalidLockPath, JSON.stringify(path));
    }
  });
});

describe('foldLockPath', () => {
  it('makes one form of the spellings a case-insensitive or decomposing file system takes for one file', () => {
    const composed = 'Art/Caf\u00e9/Hero.PSD';
    const decomposed = 'art/cafe\u0301/hero.psd';
    assert.notEqual(composed, decomposed);
    assert.equal(foldLockPath(composed), foldLockPath(decomposed));
    assert.equal(foldLockPath(composed), 'art/caf\u00e9/hero.psd');
    assert.notEqual(foldLockPath('art/hero.psd'), foldLockPath('art/hero.ps'));
  });
});

for (const backend of [...kvBackends, ...redisKvBackends]) {
  describe(`LockStore on ${backend.name}`, () => {
    it('keeps one lock per path, answering a second locker with the holder', async (t) => {
      const locks = new LockStore(backend.open(t), new MemoryBlobStore());
      const lock = await locks.create(REPO, 'assets/./big.bin', 'ada', new Date('2026-01-02T03:04:05Z'));
      assert.deepEqual({ ...lock, id: 'x' }, { id: 'x', path: 'assets/big.bin', lockedAt: '2026-01-02T03:04:05.000Z', owner: 'ada' });
      await assert.rejects(locks.create(REPO, 'assets/big.bin', 'bob'), (error: unknown) => {
        assert.ok(error instanceof LockExists);
        assert.deepEqual(error.lock, lock);
        return true;
      });
      // Another repository's paths are its own.
      await locks.create('other', 'assets/big.bin', 'bob');
      assert.deepEqual(await locks.get(REPO, lock.id), lock);
      assert.deepEqual(await locks.atPath(REPO, 'assets/big.bin'), lock);
      assert.equal(await locks.get(REPO, 'not-an-id'), undefined);
    });

    it('refuses a lock on a path that folds to a locked one, with the holder, and frees both spellings on unlock', async (t) => {
      const locks = new LockStore(backend.open(t), new MemoryBlobStore());
      const lock = await locks.create(REPO, 'art/hero.psd', 'ada');
      for (const spelling of ['Art/Hero.psd', 'ART/HERO.PSD']) {
        await assert.rejects(locks.create(REPO, spelling, 'bob'), (error: unknown) => {
          assert.ok(error instanceof LockExists, spelling);
          assert.deepEqual(error.lock, lock);
          return true;
        });
      }
      const decomposed = await locks.create(REPO, 'docs/cafe\u0301.txt', 'ada');
      await assert.rejects(locks.create(REPO, 'docs/Caf\u00e9.txt', 'bob'), LockExists);
      assert.deepEqual(await locks.atPath(REPO, 'Art/HERO.psd'), lock);
      assert.deepEqual(await locks.atPath(REPO, 'docs/caf\u00e9.txt'), decomposed);
      assert.deepEqual(await locks.delete(REPO, lock.id), lock);
      assert.equal(await locks.atPath(REPO, 'art/hero.psd'), undefined);
      assert.equal((await locks.create(REPO, 'Art/Hero.psd', 'bob')).path, 'Art/Hero.psd');
    });

    it('frees the path and the count on unlock', async (t) => {
      const locks = new LockStore(backend.open(t), new MemoryBlobStore(), { maxLocks: 2, maxPathBytes: 100 });
      const a = await locks.create(REPO, 'a', 'ada');
      await locks.create(REPO, 'b', 'ada');
      await assert.rejects(locks.create(REPO, 'c', 'ada'), TooManyLocks);
      assert.deepEqual(await locks.delete(REPO, a.id), a);
      assert.equal(await locks.delete(REPO, a.id), undefined, 'unlocking twice finds nothing the second time');
      const again = await locks.create(REPO, 'a', 'bob');
      assert.equal(again.owner, 'bob');
      await assert.rejects(locks.create(REPO, 'd', 'ada'), TooManyLocks);
    });

    it('never lets two racing lockers both hold a path, nor pass the bound', async (t) => {
      const locks = new LockStore(backend.open(t), new MemoryBlobStore(), { maxLocks: 5, maxPathBytes: 100 });
      const samePath = await Promise.allSettled(['ada', 'bob', 'cyd', 'dan'].map((who) => locks.create(REPO, 'one.bin', who)));
      assert.equal(samePath.filter((result) => result.status === 'fulfilled').length, 1);
      const manyPaths = await Promise.allSettled([1, 2, 3, 4, 5, 6, 7].map((n) => locks.create(REPO, `file-${n}`, 'ada')));
      assert.equal(manyPaths.filter((result) => result.status === 'fulfilled').length, 4);
      assert.equal((await locks.all(REPO)).length, 5);
    });

    it('pages through the locks in id order with a cursor', async (t) => {
      const locks = new LockStore(backend.open(t), new MemoryBlobStore());
      for (let n = 0; n < 7; n++) await locks.create(REPO, `f${n}`, 'ada');
      const all = await locks.all(REPO);
      assert.deepEqual(
        all.map((lock) => lock.id),
        all.map((lock) => lock.id).sort(),
      );
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await locks.page(REPO, { cursor, limit: 3 });
        seen.push(...page.locks.map((lock) => lock.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor !== undefined);
      assert.equal(pages, 3);
      assert.deepEqual(
        seen,
        all.map((lock) => lock.id),
      );
    });

    it('keeps a copy of each lock in the blob store while it stands, and none once it is unlocked', async (t) => {
      const blobs = new MemoryBlobStore();
      const locks = new LockStore(backend.open(t), blobs);
      const kept = await locks.create(REPO, 'art/hero.psd', 'ada');
      const released = await locks.create(REPO, 'art/villain.psd', 'bob');
      assert.deepEqual(
        await lockBlobs(blobs),
        new Map([
          [lfsLockBlobKey(REPO, kept.id), JSON.stringify(kept)],
          [lfsLockBlobKey(REPO, released.id), JSON.stringify(released)],
        ]),
      );
      await locks.delete(REPO, released.id);
      assert.deepEqual([...(await lockBlobs(blobs)).keys()], [lfsLockBlobKey(REPO, kept.id)]);
    });

    for (const kind of ['error', 'timeout'] as const) {
      it(`refuses and undoes a lock whose copy cannot be written (${kind})`, async (t) => {
        const { blobs, inner, injector } = failing('putIfAbsent', kind);
        const locks = new LockStore(backend.open(t), blobs, { maxLocks: 1, maxPathBytes: 100 });
        await assert.rejects(locks.create(REPO, 'art/hero.psd', 'ada'), (error: unknown) => {
          assert.ok(error instanceof LockNotDurable, String(error));
          assert.match(error.message, /locking art\/hero\.psd .*: writing .* failed .*; it was not taken/);
          return true;
        });
        assert.deepEqual(await locks.all(REPO), []);
        assert.equal(await locks.atPath(REPO, 'art/hero.psd'), undefined);
        // A write that took effect although its answer was lost is deleted too: recovery would bring the lock back.
        assert.deepEqual(await lockBlobs(inner), new Map());
        injector.enabled = false;
        // The count went back: the one lock allowed can be taken.
        const lock = await locks.create(REPO, 'art/hero.psd', 'bob');
        assert.deepEqual(await lockBlobs(inner), new Map([[lfsLockBlobKey(REPO, lock.id), JSON.stringify(lock)]]));
      });
    }

    it('says the outcome is unknown when undoing a lock whose copy failed fails too', async (t) => {
      const { blobs, injector } = failing('putIfAbsent', 'error');
      const blobsFailingDeletes = Object.create(blobs) as BlobStore;
      blobsFailingDeletes.delete = () => Promise.reject(new Error('store unavailable'));
      const locks = new LockStore(backend.open(t), blobsFailingDeletes);
      await assert.rejects(locks.create(REPO, 'a.bin', 'ada'), (error: unknown) => {
        assert.ok(error instanceof LockNotDurable, String(error));
        assert.match(error.message, /undoing it failed too \(Error: store unavailable\): the outcome is unknown/);
        return true;
      });
      assert.equal(injector.injected.length, 1);
    });

    it('tells an unlock whose copy cannot be deleted that the lock would come back after a recovery', async (t) => {
      const { blobs, inner, injector } = failing('delete', 'error');
      const locks = new LockStore(backend.open(t), blobs);
      const lock = await locks.create(REPO, 'a.bin', 'ada');
      await assert.rejects(locks.delete(REPO, lock.id), (error: unknown) => {
        assert.ok(error instanceof LockNotDurable, String(error));
        assert.match(
          error.message,
          /a\.bin in repository .* is unlocked, but deleting .* failed .*: a recovery of the KV store would bring the lock back/,
        );
        return true;
      });
      // Released in the live system all the same: its copy is what remains.
      assert.equal(await locks.get(REPO, lock.id), undefined);
      assert.deepEqual([...(await lockBlobs(inner)).keys()], [lfsLockBlobKey(REPO, lock.id)]);
      injector.enabled = false;
      // Maintenance reconciles the copies: the stale one goes, a standing lock's stays.
      const standing = await locks.create(REPO, 'b.bin', 'ada');
      assert.deepEqual(await locks.reconcileBlobs(REPO), { written: 0, removed: 1 });
      assert.deepEqual([...(await lockBlobs(inner)).keys()], [lfsLockBlobKey(REPO, standing.id)]);
    });

    it('deletes the copy of a lock unlocked between its commit and the copy being written', async (t) => {
      const kv = backend.open(t);
      const inner = new MemoryBlobStore();
      const blobs = Object.create(inner) as BlobStore;
      const locks = new LockStore(kv, blobs);
      const other = new LockStore(kv, inner);
      // Another request lists the lock as soon as it is committed and unlocks it, before its copy is written.
      blobs.putIfAbsent = async (key, body) => {
        const [lock] = await other.all(REPO);
        assert.ok(await other.delete(REPO, lock.id));
        return inner.putIfAbsent(key, body);
      };
      await locks.create(REPO, 'a.bin', 'ada');
      assert.deepEqual(await locks.all(REPO), []);
      assert.deepEqual(await lockBlobs(inner), new Map());
    });
  });
}
