// Recovery of a repository's Git LFS state (object records and locks) from the blob store alone.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { MemoryKVStore, type KVStore } from '@gitfleet/storage';
import {
  LfsObjectRecords,
  LockStore,
  RepositoryRegistry,
  TooManyLocks,
  checkpointAll,
  lfsBlobKey,
  recoverFromJournal,
  type LfsLock,
  type Repository,
  type Stores,
} from '../src/index.js';
import { LFS_KEY_PREFIX, lfsBlobPrefix, lfsLockBlobKey, repositoryScope } from '../src/keys.js';
import { backends } from './backends.js';

const LIMITS = { maxLocks: 3, maxPathBytes: 100 };

function oidOf(content: string): string {
  return createHash('sha256').update(content).digest('hex');
}

/** Stores an LFS object as the server does: its blob, then its record. */
async function storeLfsObject(stores: Stores, repo: Repository, content: string): Promise<{ oid: string; size: number }> {
  const object = { oid: oidOf(content), size: Buffer.byteLength(content) };
  await stores.blobs.putIfAbsent(lfsBlobKey(repo.info.id, object.oid), Buffer.from(content));
  await new LfsObjectRecords(stores.kv).recordStored(repo.info.id, object.oid, object.size);
  return object;
}

async function lfsKeys(kv: KVStore, repo: Repository): Promise<unknown> {
  return kv.scan(repositoryScope(repo.info.id), LFS_KEY_PREFIX);
}

async function recovered(stores: Stores): Promise<{ fresh: Stores; summary: Awaited<ReturnType<typeof recoverFromJournal>> }> {
  const fresh: Stores = { ...stores, kv: new MemoryKVStore() };
  return { fresh, summary: await recoverFromJournal(fresh) };
}

for (const backend of backends) {
  describe(`recovery of Git LFS state over ${backend.name}`, () => {
    test('records every LFS object stored, with the sum of their sizes, exactly as uploads recorded them', async (t) => {
      const stores = await backend.open(t);
      const registry = new RepositoryRegistry(stores);
      const assets = await registry.create('octo', 'assets');
      const other = await registry.create('octo', 'other');
      const plain = await registry.create('octo', 'plain');
      const objects = [await storeLfsObject(stores, assets, 'a'.repeat(1000)), await storeLfsObject(stores, assets, 'b')];
      await storeLfsObject(stores, other, 'c'.repeat(70));
      // Under the prefix but not objects: pieces of a resumable upload, and a name whose fan-out is not its oid's.
      const stray = oidOf('stray');
      await stores.blobs.putIfAbsent(`${lfsBlobPrefix(assets.info.id)}uploads/${stray}/part-1`, Buffer.alloc(50));
      await stores.blobs.putIfAbsent(`${lfsBlobPrefix(assets.info.id)}00/00/${stray}`, Buffer.alloc(60));
      const before = await Promise.all([assets, other, plain].map((repo) => lfsKeys(stores.kv, repo)));

      const { fresh, summary } = await recovered(stores);
      assert.deepEqual(await Promise.all([assets, other, plain].map((repo) => lfsKeys(fresh.kv, repo))), before);
      const records = new LfsObjectRecords(fresh.kv);
      assert.deepEqual(
        await records.list(assets.info.id),
        [...objects].sort((a, b) => (a.oid < b.oid ? -1 : 1)),
      );
      assert.equal(await records.repositoryBytes(assets.info.id), 1001);
      assert.equal(await records.repositoryBytes(plain.info.id), 0);
      assert.deepEqual(
        { objects: summary.lfsObjects, bytes: summary.lfsBytes, locks: summary.lfsLocks },
        { objects: 3, bytes: 1071, locks: 0 },
      );
      // The records go on as LfsObjectRecords keeps them: forgetting one moves the sum.
      assert.ok(await records.forget(assets.info.id, objects[0].oid));
      assert.equal(await records.repositoryBytes(assets.info.id), 1);
    });

    test('restores the locks that stand, and only those, with their paths and count', async (t) => {
      const stores = await backend.open(t);
      const repo = await new RepositoryRegistry(stores).create('octo', 'assets');
      const locks = new LockStore(stores.kv, stores.blobs, LIMITS);
      const hero = await locks.create(repo.info.id, 'Art/Hero.psd', 'ada');
      const unlocked = await locks.create(repo.info.id, 'art/villain.psd', 'bob');
      const map = await locks.create(repo.info.id, 'levels/map.bin', 'bob');
      assert.ok(await locks.delete(repo.info.id, unlocked.id));
      const level = await locks.create(repo.info.id, 'levels/boss.bin', 'cyd');
      const before = await lfsKeys(stores.kv, repo);

      const { fresh, summary } = await recovered(stores);
      assert.deepEqual(await lfsKeys(fresh.kv, repo), before);
      assert.equal(summary.lfsLocks, 3);
      assert.deepEqual(summary.lfsLockConflicts, []);
      const restored = new LockStore(fresh.kv, fresh.blobs, LIMITS);
      assert.deepEqual(
        await restored.all(repo.info.id),
        [hero, map, level].sort((a, b) => (a.id < b.id ? -1 : 1)),
      );
      assert.deepEqual(await restored.get(repo.info.id, hero.id), hero);
      assert.equal(await restored.get(repo.info.id, unlocked.id), undefined);
      assert.deepEqual(await restored.atPath(repo.info.id, 'art/hero.PSD'), hero);
      assert.equal(await restored.atPath(repo.info.id, 'art/villain.psd'), undefined);
      // The count came back: the bound still holds, and an unlock frees a place.
      await assert.rejects(restored.create(repo.info.id, 'art/villain.psd', 'bob'), TooManyLocks);
      assert.deepEqual(await restored.delete(repo.info.id, map.id), map);
      const again = await restored.create(repo.info.id, 'art/villain.psd', 'bob');
      assert.deepEqual(await restored.atPath(repo.info.id, 'art/villain.psd'), again);
    });

    test('locks taken before locks had copies come back once a checkpoint has written their copies', async (t) => {
      const stores = await backend.open(t);
      const repo = await new RepositoryRegistry(stores).create('octo', 'assets');
      const locks = new LockStore(stores.kv, stores.blobs);
      const old = await locks.create(repo.info.id, 'old.bin', 'ada');
      const newer = await locks.create(repo.info.id, 'newer.bin', 'bob');
      await stores.blobs.delete(lfsLockBlobKey(repo.info.id, old.id));
      assert.equal((await recovered(stores)).summary.lfsLocks, 1, 'without its copy, the old lock would be lost');

      const checkpoint = await checkpointAll(stores);
      assert.equal(checkpoint.lfsLockBlobsWritten, 1);
      assert.deepEqual(await locks.reconcileBlobs(repo.info.id), { written: 0, removed: 0 }, 'a copy once written is not written again');
      const { fresh, summary } = await recovered(stores);
      assert.equal(summary.lfsLocks, 2);
      assert.deepEqual(
        await new LockStore(fresh.kv, fresh.blobs).all(repo.info.id),
        [old, newer].sort((a, b) => (a.id < b.id ? -1 : 1)),
      );
    });

    test('keeps the earliest of two lock copies on one file, and reports the other', async (t) => {
      const stores = await backend.open(t);
      const repo = await new RepositoryRegistry(stores).create('octo', 'assets');
      const copy = async (lock: LfsLock) =>
        stores.blobs.putIfAbsent(lfsLockBlobKey(repo.info.id, lock.id), Buffer.from(JSON.stringify(lock)));
      const later: LfsLock = { id: 'aaaa', path: 'art/hero.psd', lockedAt: '2026-02-01T00:00:00.000Z', owner: 'bob' };
      const earlier: LfsLock = { id: 'bbbb', path: 'Art/Hero.psd', lockedAt: '2026-01-01T00:00:00.000Z', owner: 'ada' };
      await copy(later);
      await copy(earlier);

      const { fresh, summary } = await recovered(stores);
      assert.equal(summary.lfsLocks, 1);
      assert.deepEqual(summary.lfsLockConflicts, [{ repository: 'octo/assets', lock: later, heldBy: earlier }]);
      const restored = new LockStore(fresh.kv, fresh.blobs);
      assert.deepEqual(await restored.all(repo.info.id), [earlier]);
      assert.deepEqual(await restored.atPath(repo.info.id, 'art/hero.psd'), earlier);
      assert.deepEqual(await restored.delete(repo.info.id, earlier.id), earlier);
      assert.deepEqual(await restored.all(repo.info.id), []);
    });

    test('refuses a lock copy that is not the lock its key names', async (t) => {
      const stores = await backend.open(t);
      const repo = await new RepositoryRegistry(stores).create('octo', 'assets');
      const lock: LfsLock = { id: 'cccc', path: 'a.bin', lockedAt: '2026-01-01T00:00:00.000Z', owner: 'ada' };
      await stores.blobs.putIfAbsent(lfsLockBlobKey(repo.info.id, 'dddd'), Buffer.from(JSON.stringify(lock)));
      await assert.rejects(recovered(stores), /recovering LFS lock .*\/locks\/dddd: the blob holds lock cccc/);
      await stores.blobs.delete(lfsLockBlobKey(repo.info.id, 'dddd'));
      await stores.blobs.putIfAbsent(lfsLockBlobKey(repo.info.id, 'dddd'), Buffer.from('{"id":"dddd"}'));
      await assert.rejects(recovered(stores), /recovering LFS lock .*\/locks\/dddd: malformed LFS lock/);
    });
  });
}
