import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ZERO_OID, indexPack } from '@gitfleet/git-format';
import { buildPack, sha1Object } from '@gitfleet/test-support/packs';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { MemoryKVStore, type BlobStore, type KVStore } from '@gitfleet/storage';
import {
  CorruptJournalBlob,
  JOURNAL_FORMAT,
  JournalWriteError,
  KVRefDB,
  RecoveryTargetNotEmpty,
  RefJournal,
  RegistryJournal,
  RepositoryRegistry,
  encodeJournalBlob,
  parseRefTransaction,
  parseRegistryEntry,
  recoverFromJournal,
  replayRefJournal,
  replayRegistryJournal,
  type RefTransaction,
  type RegistryEntry,
  type Repository,
  type Stores,
} from '../src/index.js';
import { JOURNAL_SEQ_KEY, idxBlobKey, journalEntryKey, packBlobKey, repositoryScope } from '../src/keys.js';
import { backends, caches } from './backends.js';

/** A real pack holding one blob of `text`, written to a file under `dir`, with its idx. */
async function packOfOneBlob(dir: string, text: string) {
  const data = Buffer.from(text);
  const path = join(dir, `${text}.pack`);
  writeFileSync(path, buildPack([{ kind: 'object', type: 'blob', data }]));
  const indexed = await indexPack(path, { maxObjectSize: 1 << 20, resolveExternal: async () => undefined });
  return { text, path, oid: sha1Object('blob', data), checksum: indexed.checksum, idx: indexed.idx, packSize: indexed.packSize };
}

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const D = 'd'.repeat(40);

function transaction(seq: number, refs: RefTransaction['refs'], extra: Partial<RefTransaction> = {}): RefTransaction {
  return { format: JOURNAL_FORMAT, repository: 'r1', seq, time: `2026-01-01T00:00:0${seq}.000Z`, message: 'push', refs, ...extra };
}

/** A blob store whose writes of the key `failing` names fail. */
function failingJournalWrites(blobs: BlobStore): BlobStore & { failing?: string } {
  const store = Object.create(blobs) as BlobStore & { failing?: string };
  store.putIfAbsent = (key, body) =>
    key === store.failing ? Promise.reject(new Error('store unavailable')) : blobs.putIfAbsent(key, body);
  return store;
}

/** A KV store that counts its compare-and-swaps. */
function countingSwaps(kv: KVStore): KVStore & { swaps: number } {
  const store = Object.create(kv) as KVStore & { swaps: number };
  store.swaps = 0;
  store.compareAndSwap = (scope, ops, mode) => {
    store.swaps++;
    return kv.compareAndSwap(scope, ops, mode);
  };
  return store;
}

async function journalBlob(blobs: BlobStore, key: string): Promise<Buffer> {
  const bytes = await blobs.get(key);
  assert.ok(bytes, `${key} is stored`);
  return bytes;
}

/** An idx v2 header and fan-out claiming `objects` objects: all recovery reads of an index. */
function idxClaiming(objects: number): Buffer {
  const idx = Buffer.alloc(8 + 256 * 4);
  idx.writeUInt32BE(0xff744f63, 0);
  idx.writeUInt32BE(2, 4);
  idx.writeUInt32BE(objects, 8 + 255 * 4);
  return idx;
}

async function state(registry: RepositoryRegistry): Promise<unknown> {
  const repositories = await registry.list();
  return Promise.all(
    repositories.map(async (info) => {
      const repo = (await registry.open(info.owner, info.name))!;
      return { info, head: await repo.refs.head(), refs: await repo.refs.list() };
    }),
  );
}

describe('journal encoding', () => {
  test('an entry reads back as written; malformed or foreign blobs are refused with the key', () => {
    const entry = transaction(3, [{ name: 'refs/heads/main', oldOid: A, newOid: B }], {
      head: 'refs/heads/main',
      packs: [C],
      actor: 'alice',
    });
    assert.deepEqual(parseRefTransaction(encodeJournalBlob(entry), 'k'), entry);
    assert.throws(
      () => parseRefTransaction(Buffer.from('{'), 'journal/x'),
      (error: Error) => error instanceof CorruptJournalBlob && /journal\/x/.test(error.message),
    );
    assert.throws(() => parseRefTransaction(encodeJournalBlob({ ...entry, format: 2 as 1 }), 'k'), CorruptJournalBlob);
    assert.throws(
      () => parseRefTransaction(encodeJournalBlob({ ...entry, refs: [{ name: 'x', oldOid: 'zz', newOid: B }] }), 'k'),
      CorruptJournalBlob,
    );
    assert.throws(() => parseRegistryEntry(encodeJournalBlob({ ...entry, seq: 0 }), 'k'), CorruptJournalBlob);
  });

  test('keys list in numeric order', () => {
    const keys = [1, 2, 10, 9, 100].map((seq) => journalEntryKey('r1', seq));
    assert.deepEqual(
      [...keys].sort(),
      [1, 2, 9, 10, 100].map((seq) => journalEntryKey('r1', seq)),
    );
    assert.equal(journalEntryKey(undefined, 7), 'journal/registry/entry-0000000000000007');
  });
});

describe('journal replay', () => {
  test('absolute values: a gap does not disturb the entries after it', () => {
    const replayed = replayRefJournal(undefined, [
      transaction(1, [], { head: 'refs/heads/main' }),
      transaction(2, [{ name: 'refs/heads/main', oldOid: ZERO_OID, newOid: A }], { packs: [C] }),
      // 3 is missing: it moved main to B and created topic, and was never acknowledged.
      transaction(4, [{ name: 'refs/heads/main', oldOid: B, newOid: D }]),
    ]);
    assert.deepEqual([...replayed.refs], [['refs/heads/main', D]]);
    assert.deepEqual(replayed.gaps, [3]);
    assert.equal(replayed.seq, 4);
    assert.equal(replayed.head, 'refs/heads/main');
    assert.deepEqual(replayed.packs.get(C), { createdAt: transaction(2, []).time, kind: 'receive' });
  });

  test('a checkpoint is the starting state; entries it includes are skipped; deletions remove refs', () => {
    const replayed = replayRefJournal(
      {
        format: JOURNAL_FORMAT,
        repository: 'r1',
        seq: 5,
        time: 't',
        head: 'refs/heads/dev',
        refs: [
          { name: 'refs/heads/dev', oid: A },
          { name: 'refs/tags/v1', oid: B },
        ],
        packs: [{ checksum: C, size: 10, objects: 3, createdAt: 't0', kind: 'repack', retiredAt: 't1' }],
      },
      [
        transaction(5, [{ name: 'refs/heads/dev', oldOid: ZERO_OID, newOid: D }]),
        transaction(6, [{ name: 'refs/tags/v1', oldOid: B, newOid: ZERO_OID }]),
      ],
    );
    assert.deepEqual([...replayed.refs], [['refs/heads/dev', A]]);
    assert.equal(replayed.head, 'refs/heads/dev');
    assert.deepEqual(replayed.packs.get(C), { createdAt: 't0', kind: 'repack', objects: 3 });
    assert.deepEqual(replayed.gaps, []);
  });

  test('registry: a rename moves the entry, a deletion removes it', () => {
    const entry = (seq: number, changes: RegistryEntry['changes']): RegistryEntry => ({
      format: JOURNAL_FORMAT,
      seq,
      time: 't',
      changes,
    });
    const replayed = replayRegistryJournal({ format: JOURNAL_FORMAT, seq: 1, time: 't', entries: [{ key: 'repo:a/x', value: '1' }] }, [
      entry(1, [{ key: 'repo:a/ignored', value: '0' }]),
      entry(2, [{ key: 'repo:a/y', value: '2' }]),
      entry(3, [
        { key: 'repo:a/x', value: null },
        { key: 'repo:a/z', value: '1' },
      ]),
      entry(4, [{ key: 'repo:a/y', value: null }]),
    ]);
    assert.deepEqual([...replayed.entries], [['repo:a/z', '1']]);
    assert.equal(replayed.seq, 4);
  });
});

for (const backend of backends) {
  describe(`the journal over ${backend.name}`, () => {
    test('each ref transaction is one entry, in commit order, with what it applied', async (t) => {
      const stores = await backend.open(t);
      const repo = await new RepositoryRegistry(stores).create('octo', 'hello');
      await repo.refs.update(
        [
          { name: 'refs/heads/main', oldOid: ZERO_OID, newOid: A },
          { name: 'refs/heads/a', oldOid: ZERO_OID, newOid: A },
        ],
        { atomic: true, message: 'push', actor: 'alice', packs: [C] },
      );
      // Not atomic: refs/heads/a/b cannot be created beside refs/heads/a; the rest is applied and journaled.
      const conflicts = await repo.refs.update(
        [
          { name: 'refs/heads/main', oldOid: A, newOid: B },
          { name: 'refs/heads/a/b', oldOid: ZERO_OID, newOid: B },
        ],
        { atomic: false, message: 'push' },
      );
      assert.deepEqual(
        conflicts.map((c) => c.name),
        ['refs/heads/a/b'],
      );
      await repo.refs.setHead('refs/heads/a');
      const entries = await Promise.all(
        [1, 2, 3, 4].map(async (seq) => parseRefTransaction(await journalBlob(stores.blobs, journalEntryKey(repo.info.id, seq)), 'k')),
      );
      assert.equal(entries[0].head, 'refs/heads/main');
      assert.deepEqual(entries[1].refs, [
        { name: 'refs/heads/main', oldOid: ZERO_OID, newOid: A },
        { name: 'refs/heads/a', oldOid: ZERO_OID, newOid: A },
      ]);
      assert.equal(entries[1].actor, 'alice');
      assert.deepEqual(entries[1].packs, [C]);
      assert.deepEqual(entries[2].refs, [{ name: 'refs/heads/main', oldOid: A, newOid: B }]);
      assert.equal(entries[3].head, 'refs/heads/a');
      assert.equal(await stores.blobs.head(journalEntryKey(repo.info.id, 5)), undefined);
    });

    test('concurrent transactions of one repository each take their own number, with no gap, whoever commits first', async (t) => {
      const stores = await backend.open(t);
      const repo = await new RepositoryRegistry(stores).create('octo', 'hello');
      // Two handles, as two processes would have: each one's expectation of the number goes stale.
      const other = new KVRefDB(repo.info.id, stores.kv, new RefJournal(repo.info.id, stores.kv, stores.blobs));
      const branches = Array.from({ length: 12 }, (_, i) => `refs/heads/b${i}`);
      await Promise.all(
        branches.map((name, i) =>
          (i % 2 ? other : repo.refs).update([{ name, oldOid: ZERO_OID, newOid: A }], { atomic: true, message: 'push' }),
        ),
      );
      const journaled: string[] = [];
      for (let seq = 2; seq <= branches.length + 1; seq++) {
        const entry = parseRefTransaction(await journalBlob(stores.blobs, journalEntryKey(repo.info.id, seq)), 'k');
        journaled.push(...entry.refs.map((ref) => ref.name));
      }
      assert.deepEqual(journaled.sort(), [...branches].sort());
      assert.equal(await stores.blobs.head(journalEntryKey(repo.info.id, branches.length + 2)), undefined);
    });

    test('concurrent transactions of one process take consecutive numbers: each is sent once, none loses a race', async (t) => {
      const opened = await backend.open(t);
      const kv = countingSwaps(opened.kv);
      const repo = await new RepositoryRegistry({ ...opened, kv }).create('octo', 'hello');
      const branches = Array.from({ length: 16 }, (_, i) => `refs/heads/b${i}`);
      kv.swaps = 0;
      await Promise.all(
        branches.map((name) => repo.refs.update([{ name, oldOid: ZERO_OID, newOid: A }], { atomic: true, message: 'push' })),
      );
      assert.equal(kv.swaps, branches.length);
      for (let seq = 2; seq <= branches.length + 1; seq++) assert.ok(await opened.blobs.head(journalEntryKey(repo.info.id, seq)));
      assert.equal(await opened.kv.get(repositoryScope(repo.info.id), JOURNAL_SEQ_KEY), String(branches.length + 1));
    });

    test('a transaction applied but not journaled rejects; the next one is journaled and recovery keeps it', async (t) => {
      const opened = await backend.open(t);
      const blobs = failingJournalWrites(opened.blobs);
      const stores: Stores = { ...opened, blobs };
      const registry = new RepositoryRegistry(stores);
      const repo = await registry.create('octo', 'hello');
      await repo.refs.update([{ name: 'refs/heads/main', oldOid: ZERO_OID, newOid: A }], { atomic: true, message: 'push' });
      blobs.failing = journalEntryKey(repo.info.id, 3);
      await assert.rejects(
        repo.refs.update(
          [
            { name: 'refs/heads/main', oldOid: A, newOid: B },
            { name: 'refs/heads/unacknowledged', oldOid: ZERO_OID, newOid: B },
          ],
          { atomic: true, message: 'push' },
        ),
        (error: Error) => error instanceof JournalWriteError && /outcome is unknown/.test(error.message),
      );
      // The live system did move: honest about it, the client was told the outcome is unknown.
      assert.equal(await repo.refs.get('refs/heads/main'), B);
      blobs.failing = undefined;
      await repo.refs.update([{ name: 'refs/heads/main', oldOid: B, newOid: C }], { atomic: true, message: 'push' });

      const fresh: Stores = { ...opened, kv: new MemoryKVStore() };
      const summary = await recoverFromJournal(fresh);
      assert.deepEqual(summary.gaps, [{ repository: 'octo/hello', seq: 3 }]);
      const recovered = (await new RepositoryRegistry(fresh).open('octo', 'hello'))!;
      assert.deepEqual(await recovered.refs.list(), [{ name: 'refs/heads/main', oid: C }]);
      // The sequence goes on after the last journaled transaction.
      await recovered.refs.update([{ name: 'refs/heads/main', oldOid: C, newOid: D }], { atomic: true, message: 'push' });
      assert.ok(await fresh.blobs.head(journalEntryKey(repo.info.id, 5)));
    });

    test('recovery rebuilds registry, refs, HEAD and packs into an empty KV store, from checkpoints and entries', async (t) => {
      const stores = await backend.open(t);
      const registry = new RepositoryRegistry(stores);
      const kept = await registry.create('octo', 'kept', { defaultBranch: 'trunk', description: 'd', private: true });
      const renamed = await registry.create('octo', 'old-name');
      const deleted = await registry.create('octo', 'deleted');
      for (const [repo, oid] of [
        [kept, A],
        [renamed, B],
        [deleted, C],
      ] as Array<[Repository, string]>) {
        await repo.refs.update([{ name: 'refs/heads/trunk', oldOid: ZERO_OID, newOid: oid }], {
          atomic: true,
          message: 'push',
          packs: [D],
        });
      }
      // A checkpoint, then changes after it; the entries it covers are removed to show it is what recovery starts from.
      const journal = new RefJournal(kept.info.id, stores.kv, stores.blobs);
      const checkpointSeq = await journal.checkpoint();
      for (let seq = 1; seq <= checkpointSeq; seq++) await stores.blobs.delete(journalEntryKey(kept.info.id, seq));
      await kept.refs.update(
        [
          { name: 'refs/tags/v1', oldOid: ZERO_OID, newOid: B },
          { name: 'refs/heads/trunk', oldOid: A, newOid: C },
        ],
        { atomic: true, message: 'force push' },
      );
      await kept.refs.update([{ name: 'refs/heads/gone', oldOid: ZERO_OID, newOid: B }], { atomic: true, message: 'push' });
      await kept.refs.update([{ name: 'refs/heads/gone', oldOid: B, newOid: ZERO_OID }], { atomic: true, message: 'delete' });
      await registry.update('octo', 'old-name', { name: 'new-name', description: 'moved' });
      await registry.delete('octo', 'deleted');
      const checkpointed = await new RegistryJournal(stores.kv, stores.blobs).checkpoint();
      await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal(
        await new RegistryJournal(stores.kv, stores.blobs).checkpoint(),
        checkpointed,
        'a checkpoint again, nothing changed, is no error',
      );
      await registry.create('octo', 'after-checkpoint');

      // Packs are not in the live KV store here (only their blobs): a complete one, whose object count
      // recovery reads from its idx, and one whose .idx is gone (a deletion under way).
      await stores.blobs.putIfAbsent(packBlobKey(renamed.info.id, D), Buffer.alloc(123));
      await stores.blobs.putIfAbsent(idxBlobKey(renamed.info.id, D), idxClaiming(7));
      await stores.blobs.putIfAbsent(packBlobKey(kept.info.id, A), Buffer.alloc(5));
      const before = await state(registry);

      const fresh: Stores = { ...stores, kv: new MemoryKVStore() };
      const progress: number[] = [];
      const summary = await recoverFromJournal(fresh, { onProgress: ({ repositoriesDone }) => progress.push(repositoriesDone) });
      assert.deepEqual(await state(new RepositoryRegistry(fresh)), before);
      assert.equal(summary.repositories, 3);
      assert.equal(summary.packs, 1);
      assert.deepEqual(summary.gaps, []);
      assert.deepEqual(progress, [0, 1, 2, 3]);
      // The journal knows the pack: a push's (its entry names it), with the push's time.
      const recoveredRenamed = (await new RepositoryRegistry(fresh).open('octo', 'new-name'))!;
      const [pack] = await recoveredRenamed.packs.list();
      assert.deepEqual(
        { checksum: pack.checksum, size: pack.size, objects: pack.objects, kind: pack.kind },
        { checksum: D, size: 123, objects: 7, kind: 'receive' },
      );
      // The registry's sequence goes on: the next change settles and extends the same journal.
      await new RepositoryRegistry(fresh).create('octo', 'after-recovery');
      assert.ok(await fresh.blobs.head(journalEntryKey(undefined, 7)));
    });

    test('recovery registers packs stored joined to their idx, readable, and prefers a .pack and .idx stored beside one', async (t) => {
      const stores = await backend.open(t);
      const repo = await new RepositoryRegistry(stores).create('octo', 'joined');
      const dir = tempDir(t, 'joined-packs');
      const [alone, twice] = await Promise.all(['alone', 'twice'].map((text) => packOfOneBlob(dir, text)));
      for (const pack of [alone, twice]) {
        await repo.packs.add(readFileSync(pack.path), pack.packSize, pack.idx, pack.checksum);
        await repo.refs.update([{ name: `refs/tags/${pack.text}`, oldOid: ZERO_OID, newOid: pack.oid }], {
          atomic: true,
          message: 'push',
          packs: [pack.checksum],
        });
      }
      // What a second push of the same pack, spooled to a file, leaves when it loses the race to register.
      await repo.packs.store(twice.path, twice.packSize, twice.idx, twice.checksum);

      const fresh: Stores = { ...stores, kv: new MemoryKVStore(), ...caches() };
      assert.equal((await recoverFromJournal(fresh)).packs, 2);
      const recovered = (await new RepositoryRegistry(fresh).open('octo', 'joined'))!;
      const described = (await recovered.packs.list()).map(({ checksum, size, objects, kind, layout }) => ({
        checksum,
        size,
        objects,
        kind,
        layout,
      }));
      assert.deepEqual(
        described.sort((a, b) => a.checksum.localeCompare(b.checksum)),
        [
          { checksum: alone.checksum, size: alone.packSize, objects: 1, kind: 'receive', layout: 'joined' },
          { checksum: twice.checksum, size: twice.packSize, objects: 1, kind: 'receive', layout: undefined },
        ].sort((a, b) => a.checksum.localeCompare(b.checksum)),
      );
      for (const pack of [alone, twice]) {
        assert.equal((await recovered.objects.read(pack.oid))?.data.toString(), pack.text);
      }
    });

    test('a KV store that lost journaled transactions (a failover) does not block the repository: the next one is numbered past the journal', async (t) => {
      const stores = await backend.open(t);
      const registry = new RepositoryRegistry(stores);
      const repo = await registry.create('octo', 'hello');
      await repo.refs.update([{ name: 'refs/heads/main', oldOid: ZERO_OID, newOid: A }], { atomic: true, message: 'push' });
      await repo.refs.update([{ name: 'refs/heads/main', oldOid: A, newOid: B }], { atomic: true, message: 'push' });
      const scope = `repo:${repo.info.id}`;
      // The KV store forgets transactions 2 and 3, which the journal has.
      await stores.kv.compareAndSwap(
        scope,
        [
          { key: 'journal:seq', expect: '3', value: '1' },
          { key: 'ref:refs/heads/main', expect: B, value: null },
        ],
        'all',
      );
      await repo.refs.update([{ name: 'refs/heads/topic', oldOid: ZERO_OID, newOid: C }], { atomic: true, message: 'push' });
      const moved = parseRefTransaction(await journalBlob(stores.blobs, journalEntryKey(repo.info.id, 4)), 'k');
      assert.deepEqual(moved.refs, [{ name: 'refs/heads/topic', oldOid: ZERO_OID, newOid: C }]);
      assert.equal(await stores.kv.get(scope, 'journal:seq'), '4');
      await repo.refs.update([{ name: 'refs/heads/topic', oldOid: C, newOid: D }], { atomic: true, message: 'push' });
      assert.ok(await stores.blobs.head(journalEntryKey(repo.info.id, 5)));

      // The registry likewise: `journal:last` back at transaction 1.
      const first = await journalBlob(stores.blobs, journalEntryKey(undefined, 1));
      await registry.create('octo', 'second');
      const last = await stores.kv.get('registry', 'journal:last');
      await stores.kv.compareAndSwap('registry', [{ key: 'journal:last', expect: last!, value: first.toString('utf8') }], 'all');
      await registry.create('octo', 'third');
      const renumbered = parseRegistryEntry(await journalBlob(stores.blobs, journalEntryKey(undefined, 3)), 'k');
      assert.deepEqual(
        renumbered.changes.map((change) => change.key),
        ['repo:octo/third'],
      );

      // Recovery replays the journal: the transactions the KV store lost are back.
      const fresh: Stores = { ...stores, kv: new MemoryKVStore() };
      await recoverFromJournal(fresh);
      const recovered = (await new RepositoryRegistry(fresh).open('octo', 'hello'))!;
      assert.deepEqual(await recovered.refs.list(), [
        { name: 'refs/heads/main', oid: B },
        { name: 'refs/heads/topic', oid: D },
      ]);
      assert.deepEqual(
        (await new RepositoryRegistry(fresh).list()).map((info) => info.name),
        ['hello', 'second', 'third'],
      );
    });

    test('recovery refuses a KV store that is not empty', async (t) => {
      const stores = await backend.open(t);
      await new RepositoryRegistry(stores).create('octo', 'hello');
      await assert.rejects(recoverFromJournal(stores), RecoveryTargetNotEmpty);
    });

    test('a registry change lost after its commit is settled by the next one', async (t) => {
      const opened = await backend.open(t);
      const blobs = failingJournalWrites(opened.blobs);
      const registry = new RepositoryRegistry({ ...opened, blobs });
      await registry.create('octo', 'first');
      const kv: KVStore = opened.kv;
      const lastBefore = await kv.get('registry', 'journal:last');
      blobs.failing = journalEntryKey(undefined, 2);
      await assert.rejects(registry.update('octo', 'first', { name: 'second' }), JournalWriteError);
      assert.notEqual(await kv.get('registry', 'journal:last'), lastBefore);
      assert.equal(await blobs.head(journalEntryKey(undefined, 2)), undefined);
      blobs.failing = undefined;
      await registry.create('octo', 'third');
      const settled = parseRegistryEntry(await journalBlob(blobs, journalEntryKey(undefined, 2)), 'k');
      assert.deepEqual(
        settled.changes.map((change) => change.key),
        ['repo:octo/first', 'repo:octo/second'],
      );
    });
  });
}
