import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ZERO_OID } from '@gitfleet/git-format';
import { MemoryKVStore, type BlobStore } from '@gitfleet/storage';
import { pruneJournal, recoverFromJournal, RefJournal, RegistryJournal, RepositoryRegistry, type Stores } from '../src/index.js';
import { journalBlobPrefix, journalCheckpointKey, parseJournalKey } from '../src/keys.js';
import { backends } from './backends.js';

const oids = () => ['1', '2', '3', '4', '5', '6', '7'].map((digit) => digit.repeat(40));

async function journalBlobs(blobs: BlobStore, repositoryId: string | undefined): Promise<string[]> {
  const names: string[] = [];
  for await (const { key } of blobs.list(journalBlobPrefix(repositoryId))) {
    const parsed = parseJournalKey(key)!;
    names.push(`${parsed.kind} ${parsed.seq}`);
  }
  return names.sort();
}

for (const backend of backends) {
  describe(`pruning the journal over ${backend.name}`, () => {
    test('keeps the two newest checkpoints and every entry; recovery gives the same state', async (t) => {
      const stores = await backend.open(t);
      const registry = new RepositoryRegistry(stores);
      const repo = await registry.create('octo', 'hello');
      const journal = new RefJournal(repo.info.id, stores.kv, stores.blobs);
      const unused = oids();
      let previous = ZERO_OID;
      const push = async (count: number) => {
        for (let i = 0; i < count; i++) {
          const next = unused.shift()!;
          await repo.refs.update([{ name: 'refs/heads/main', oldOid: previous, newOid: next }], { atomic: true, message: 'push' });
          previous = next;
        }
      };
      await push(2);
      assert.deepEqual(await pruneJournal(stores.blobs, repo.info.id), { checkpoints: 0 }, 'nothing before two checkpoints');
      const first = await journal.checkpoint();
      await push(2);
      const second = await journal.checkpoint();
      await push(2);
      const third = await journal.checkpoint();
      await push(1);
      assert.deepEqual([first, second, third], [3, 5, 7]);

      assert.deepEqual(await pruneJournal(stores.blobs, repo.info.id), { checkpoints: 1 });
      assert.deepEqual(await journalBlobs(stores.blobs, repo.info.id), [
        'checkpoint 5',
        'checkpoint 7',
        ...[1, 2, 3, 4, 5, 6, 7, 8].map((seq) => `entry ${seq}`),
      ]);
      assert.deepEqual(await pruneJournal(stores.blobs, repo.info.id), { checkpoints: 0 }, 'pruning again finds nothing');

      const fresh: Stores = { ...stores, kv: new MemoryKVStore() };
      await recoverFromJournal(fresh);
      const recovered = (await new RepositoryRegistry(fresh).open('octo', 'hello'))!;
      assert.deepEqual(await recovered.refs.list(), await repo.refs.list());

      // The newest checkpoint lost: recovery starts from the one kept before it.
      await stores.blobs.delete(journalCheckpointKey(repo.info.id, third));
      const again: Stores = { ...stores, kv: new MemoryKVStore() };
      await recoverFromJournal(again);
      const fallback = (await new RepositoryRegistry(again).open('octo', 'hello'))!;
      assert.deepEqual(await fallback.refs.list(), await repo.refs.list());
    });

    test("prunes the registry's journal the same way", async (t) => {
      const stores = await backend.open(t);
      const registry = new RepositoryRegistry(stores);
      const journal = new RegistryJournal(stores.kv, stores.blobs);
      for (const name of ['one', 'two', 'three', 'four']) {
        await registry.create('octo', name);
        await journal.checkpoint();
      }
      const before = await journalBlobs(stores.blobs, undefined);
      const pruned = await pruneJournal(stores.blobs, undefined);
      assert.deepEqual(pruned, { checkpoints: 2 });
      assert.deepEqual(await journalBlobs(stores.blobs, undefined), [
        'checkpoint 3',
        'checkpoint 4',
        ...before.filter((name) => name.startsWith('entry')),
      ]);
      const fresh: Stores = { ...stores, kv: new MemoryKVStore() };
      await recoverFromJournal(fresh);
      assert.deepEqual(
        (await new RepositoryRegistry(fresh).list()).map((info) => info.name),
        ['four', 'one', 'three', 'two'],
      );
    });
  });
}
