import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ZERO_OID } from '@gitfleet/git-format';
import { MemoryKVStore, type BlobStore } from '@gitfleet/storage';
import {
  collectDeletedRepositories,
  LockStore,
  recoverFromJournal,
  RegistryJournal,
  RepositoryRegistry,
  type Stores,
} from '../src/index.js';
import { journalBlobPrefix, lfsBlobPrefix, packBlobKey, repositoryBlobPrefix } from '../src/keys.js';
import { backends } from './backends.js';

const A = 'a'.repeat(40);
const HOUR_MS = 3_600_000;

async function keysUnder(blobs: BlobStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const blob of blobs.list(prefix)) keys.push(blob.key);
  return keys;
}

/** Blobs of a repository: its journal (written by the registry), a pack and an LFS lock's copy. */
async function repositoryWithBlobs(stores: Stores, registry: RepositoryRegistry, name: string): Promise<string> {
  const repo = await registry.create('octo', name);
  await repo.refs.update([{ name: 'refs/heads/main', oldOid: ZERO_OID, newOid: A }], { atomic: true, message: 'push' });
  await stores.blobs.putIfAbsent(packBlobKey(repo.info.id, A), Buffer.alloc(100));
  await new LockStore(stores.kv, stores.blobs).create(repo.info.id, 'art/hero.psd', 'ada');
  return repo.info.id;
}

for (const backend of backends) {
  describe(`collecting deleted repositories over ${backend.name}`, () => {
    test('removes every blob of a repository deleted longer than the grace period ago, and only those', async (t) => {
      const stores = await backend.open(t);
      const registry = new RepositoryRegistry(stores);
      const deletedId = await repositoryWithBlobs(stores, registry, 'deleted');
      const keptId = await repositoryWithBlobs(stores, registry, 'kept');
      const keptBlobs = [
        ...(await keysUnder(stores.blobs, repositoryBlobPrefix(keptId))),
        ...(await keysUnder(stores.blobs, journalBlobPrefix(keptId))),
        ...(await keysUnder(stores.blobs, lfsBlobPrefix(keptId))),
      ];
      assert.ok(await registry.delete('octo', 'deleted'));

      const early = await collectDeletedRepositories(registry, stores.blobs, { graceMs: HOUR_MS });
      assert.deepEqual(early, { collected: 0, waiting: 1, blobs: 0, bytes: 0 });
      assert.notDeepEqual(await keysUnder(stores.blobs, repositoryBlobPrefix(deletedId)), [], 'kept through the grace period');

      const later = await collectDeletedRepositories(registry, stores.blobs, { graceMs: HOUR_MS, now: () => Date.now() + 2 * HOUR_MS });
      assert.equal(later.collected, 1);
      assert.equal(later.waiting, 0);
      assert.ok(later.blobs >= 3, `the pack and at least two journal entries: ${later.blobs}`);
      assert.deepEqual(await keysUnder(stores.blobs, repositoryBlobPrefix(deletedId)), []);
      assert.deepEqual(await keysUnder(stores.blobs, journalBlobPrefix(deletedId)), []);
      assert.deepEqual(await keysUnder(stores.blobs, lfsBlobPrefix(deletedId)), []);
      assert.deepEqual(await registry.deleted(), []);
      assert.deepEqual(
        [
          ...(await keysUnder(stores.blobs, repositoryBlobPrefix(keptId))),
          ...(await keysUnder(stores.blobs, journalBlobPrefix(keptId))),
          ...(await keysUnder(stores.blobs, lfsBlobPrefix(keptId))),
        ],
        keptBlobs,
      );
      assert.deepEqual(
        (await registry.list()).map((info) => info.name),
        ['kept'],
      );
    });

    test('a deletion not yet collected survives recovery of the KV store as a deletion, not as a repository', async (t) => {
      const stores = await backend.open(t);
      const registry = new RepositoryRegistry(stores);
      const deletedId = await repositoryWithBlobs(stores, registry, 'deleted');
      await registry.delete('octo', 'deleted');
      await new RegistryJournal(stores.kv, stores.blobs).checkpoint();
      await repositoryWithBlobs(stores, registry, 'after-checkpoint');

      const fresh: Stores = { ...stores, kv: new MemoryKVStore() };
      const summary = await recoverFromJournal(fresh);
      assert.equal(summary.repositories, 1);
      const recovered = new RepositoryRegistry(fresh);
      assert.deepEqual(
        (await recovered.list()).map((info) => info.name),
        ['after-checkpoint'],
      );
      assert.deepEqual(
        (await recovered.deleted()).map((deleted) => deleted.id),
        [deletedId],
      );
      const collected = await collectDeletedRepositories(recovered, fresh.blobs, { graceMs: 0, now: () => Date.now() + 1 });
      assert.equal(collected.collected, 1);
      assert.deepEqual(await keysUnder(fresh.blobs, repositoryBlobPrefix(deletedId)), []);
    });
  });
}
