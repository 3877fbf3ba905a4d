import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { inflateSync } from 'node:zlib';
import { GIT_MAX_DELTA_DEPTH, indexPack, packIndexFromTables, packIndexTables, writePackIndex } from '@gitfleet/git-format';
import { FsBlobStore, MemoryBlobStore, MemoryKVStore, SqliteKVStore, type BlobStore, type ByteRange } from '@gitfleet/storage';
import {
  CorruptPackError,
  DeltaBaseCache,
  MissingPackError,
  Repository,
  RepositoryRegistry,
  type ObjectReader,
  type PackAccess,
  type Stores,
} from '../src/index.js';
import { idxBlobKey, joinedPackBlobKey, packBlobKey, repositoryScope } from '../src/keys.js';
import { deltaChain } from '@gitfleet/test-support/delta-bombs';
import { git } from '@gitfleet/test-support/git';
import { buildHistory } from '@gitfleet/test-support/histories';
import { buildPack, catFile, sha1Object } from '@gitfleet/test-support/packs';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { backends, caches } from './backends.js';
import { packObjects, verifyPack, type BuiltPack, type PackedObject } from './git-fixtures.js';

const workDir = tempDir({ after }, 'objectdb');
let source: string;
/** Every object, one pack, ofs-deltas up to 50 deep. */
let deepPack: BuiltPack;
/** Every object, one pack, ref-deltas only. */
let refDeltaPack: BuiltPack;
/** The history split in two packs: up to main~30, then the rest. */
let olderPack: BuiltPack;
let newerPack: BuiltPack;
/** The objects the newest commit adds: a pack the size of a push. */
let tipPack: BuiltPack;
let expected: Map<string, { type: string; data: Buffer }>;

before(() => {
  source = buildHistory(workDir, 70);
  const out = (name: string) => {
    const dir = path.join(workDir, name);
    mkdirSync(dir);
    return dir;
  };
  deepPack = packObjects(source, out('deep'), ['--all'], { offsetDeltas: true });
  refDeltaPack = packObjects(source, out('ref'), ['--all'], { offsetDeltas: false });
  olderPack = packObjects(source, out('older'), ['main~30'], { offsetDeltas: true });
  newerPack = packObjects(source, out('newer'), ['--all', '^main~30'], { offsetDeltas: true });
  tipPack = packObjects(source, out('tip'), ['main', '^main~1'], { offsetDeltas: true });
  expected = catFile(
    source,
    verifyPack(deepPack).map((o) => o.oid),
  );
});

function newRepository(stores: Stores, id = 'r0123456789abcdef0123456789abcdef'): Repository {
  return new Repository({ id, owner: 'o', name: 'r', createdAt: new Date().toISOString(), private: false, description: '' }, stores);
}

async function addPack(packs: PackAccess, pack: BuiltPack): Promise<void> {
  await packs.add(pack.packPath, pack.packSize, pack.idx, pack.checksum);
}

/** `blobs`, with every get it serves added to `gets`. */
function recordingGets(blobs: BlobStore, gets: Array<{ key: string; range?: ByteRange }>): BlobStore {
  return new Proxy(blobs, {
    get(target, property) {
      if (property === 'get') {
        return (key: string, range?: ByteRange) => {
          gets.push({ key, range });
          return target.get(key, range);
        };
      }
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

async function streamed(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function assertReadsLikeGit(objects: ObjectReader, oids: Iterable<string>): Promise<number> {
  let count = 0;
  for (const oid of oids) {
    const want = expected.get(oid)!;
    // Before the read: the type then comes from walking entry headers, not from a cached base.
    assert.equal(await objects.type(oid), want.type, `type(${oid})`);
    const got = await objects.read(oid);
    assert.ok(got, `read(${oid}) found nothing`);
    assert.equal(got.type, want.type, `type of ${oid}`);
    assert.ok(got.data.equals(want.data), `content of ${oid} (${want.type}) differs from git cat-file`);
    assert.deepEqual(await objects.header(oid), { type: want.type, size: want.data.length }, `header(${oid})`);
    assert.equal(await objects.has(oid), true);
    count++;
  }
  return count;
}

for (const backend of backends) {
  describe(`objects and packs over ${backend.name}`, () => {
    test('reads every object of a pack with 50-deep ofs-delta chains as git cat-file does', async (t) => {
      const packed = verifyPack(deepPack);
      // The test means something only if git really built long chains.
      assert.ok(Math.max(...packed.map((o) => o.depth)) >= 40, 'expected delta chains at least 40 deep');
      const { objects, packs } = newRepository(await backend.open(t));
      await addPack(packs, deepPack);
      assert.equal(await assertReadsLikeGit(objects, expected.keys()), packed.length);
    });

    test('reads a pack of ref-deltas', async (t) => {
      const packed = verifyPack(refDeltaPack);
      assert.ok(
        packed.some((o) => o.baseOid),
        'expected deltas in the pack',
      );
      const { objects, packs } = newRepository(await backend.open(t));
      await addPack(packs, refDeltaPack);
      assert.equal(
        await assertReadsLikeGit(
          objects,
          packed.map((o) => o.oid),
        ),
        expected.size,
      );
    });

    test('finds objects across several packs', async (t) => {
      const { objects, packs } = newRepository(await backend.open(t));
      await addPack(packs, olderPack);
      await addPack(packs, newerPack);
      const inOlder = new Set(verifyPack(olderPack).map((o) => o.oid));
      const inNewer = verifyPack(newerPack).map((o) => o.oid);
      assert.ok(inOlder.size > 0 && inNewer.length > 0 && inNewer.every((oid) => !inOlder.has(oid)));
      await assertReadsLikeGit(objects, [...inOlder, ...inNewer]);
      assert.deepEqual((await packs.list()).map((p) => p.checksum).sort(), [olderPack.checksum, newerPack.checksum].sort());
    });

    test('locate and readDeflated give the stored entry byte for byte', async (t) => {
      const stores = await backend.open(t);
      const { packs } = newRepository(stores);
      await addPack(packs, deepPack);
      const packBytes = readFileSync(deepPack.packPath);
      for (const object of verifyPack(deepPack)) {
        const entry = await packs.locate(object.oid);
        assert.ok(entry, `locate(${object.oid})`);
        assert.equal(entry.pack, deepPack.checksum);
        assert.equal(entry.offset, object.offset);
        assert.equal(entry.baseOid, object.baseOid, `base of ${object.oid}`);
        assert.equal(entry.header.kind, object.baseOid ? 'ofs-delta' : 'object');
        const deflated = await packs.readDeflated(entry);
        assert.ok(deflated.equals(packBytes.subarray(entry.offset + entry.header.headerLength, entry.end)));
        assert.equal(inflateSync(deflated).length, entry.header.size);
        if (!object.baseOid) assert.ok(inflateSync(deflated).equals(expected.get(object.oid)!.data));
      }
      const stream = await packs.stream(deepPack.checksum, 12, 5000);
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      assert.ok(Buffer.concat(chunks).equals(packBytes.subarray(12, 5000)));
    });

    test('absent objects are absent, after one look at the registry', async (t) => {
      const { objects, packs } = newRepository(await backend.open(t));
      const missing = 'f'.repeat(40);
      assert.equal(await objects.has(missing), false);
      assert.equal(await objects.read(missing), undefined);
      assert.equal(await objects.header(missing), undefined);
      assert.equal(await objects.type(missing), undefined);
      assert.equal(await packs.locate(missing), undefined);
      await addPack(packs, olderPack);
      assert.equal(await objects.read(missing), undefined);
    });

    test('a second instance finds a pack another one added, by refreshing on a miss', async (t) => {
      const stores = await backend.open(t);
      const writer = newRepository(stores);
      // A separate process: its own index cache, same stores.
      const reader = newRepository({ ...stores, ...caches() });
      const [first] = verifyPack(olderPack);
      assert.equal(await reader.objects.has(first.oid), false); // the reader has now loaded an empty pack list
      await addPack(writer.packs, olderPack);
      await assertReadsLikeGit(
        reader.objects,
        verifyPack(olderPack).map((o) => o.oid),
      );
      await addPack(writer.packs, newerPack);
      await reader.packs.refresh();
      assert.equal((await reader.packs.list()).length, 2);
      assert.equal((await reader.packs.list())[0].checksum, newerPack.checksum, 'newest pack first');
    });

    test('a pack added from its bytes is one joined blob, which a process with nothing cached reads like git', async (t) => {
      const stores = await backend.open(t);
      const repo = newRepository(stores);
      const bytes = readFileSync(deepPack.packPath);
      await repo.packs.add(bytes, deepPack.packSize, deepPack.idx, deepPack.checksum);
      const stored: string[] = [];
      for await (const blob of stores.blobs.list(`repos/${repo.info.id}/packs/`)) stored.push(blob.key);
      assert.deepEqual(stored, [joinedPackBlobKey(repo.info.id, deepPack.checksum)], 'one blob, no .pack or .idx');
      assert.ok((await stores.blobs.get(stored[0]))?.equals(Buffer.concat([bytes, deepPack.idx])), 'the pack, then its idx');
      const [record] = await stores.kv.scan(repositoryScope(repo.info.id), 'pack:');
      assert.equal(JSON.parse(record.value).layout, 'joined');
      assert.ok(expected.size > 64);
      assert.equal(JSON.parse(record.value).idxTables, undefined, 'too many objects for the record to carry their idx');

      const reader = newRepository({ ...stores, ...caches() });
      assert.equal(await assertReadsLikeGit(reader.objects, expected.keys()), expected.size);
      assert.ok((await streamed(await reader.packs.stream(deepPack.checksum, 0, deepPack.packSize))).equals(bytes));
      assert.equal(await reader.packs.directReadUrl(deepPack.checksum, 60), undefined, 'a download would carry the idx too');

      await stores.blobs.delete(stored[0]);
      const [object] = verifyPack(deepPack);
      await assert.rejects(newRepository({ ...stores, ...caches() }).objects.read(object.oid), MissingPackError);
    });

    test('a pushed pack of a few objects carries its idx in its record: a process with nothing cached reads it with no get of the idx', async (t) => {
      const stores = await backend.open(t);
      const repo = newRepository(stores);
      await repo.packs.add(readFileSync(tipPack.packPath), tipPack.packSize, tipPack.idx, tipPack.checksum);
      const [record] = await stores.kv.scan(repositoryScope(repo.info.id), 'pack:');
      const { idxTables } = JSON.parse(record.value) as { idxTables: string };
      assert.ok(packIndexFromTables(Buffer.from(idxTables, 'base64'), tipPack.checksum).equals(tipPack.idx));

      const gets: Array<{ key: string; range?: ByteRange }> = [];
      const reader = newRepository({ ...stores, ...caches(), blobs: recordingGets(stores.blobs, gets) });
      const objects = verifyPack(tipPack).map((o) => o.oid);
      assert.equal(await assertReadsLikeGit(reader.objects, objects), objects.length);
      assert.ok(gets.length > 0, 'the objects were read from the store');
      assert.deepEqual(
        gets.filter(({ range }) => range === undefined || range.start >= tipPack.packSize),
        [],
        'no get of the idx',
      );
    });

    test('the process that pushed a pack reads it with no get: its bytes are cached as they are stored', async (t) => {
      const stores = await backend.open(t);
      const gets: Array<{ key: string; range?: ByteRange }> = [];
      const repo = newRepository({ ...stores, ...caches(), blobs: recordingGets(stores.blobs, gets) });
      await repo.packs.add(readFileSync(tipPack.packPath), tipPack.packSize, tipPack.idx, tipPack.checksum);
      const objects = verifyPack(tipPack).map((o) => o.oid);
      assert.equal(await assertReadsLikeGit(repo.objects, objects), objects.length);
      assert.deepEqual(gets, []);
    });

    test('an idx in a record that is out of order, fails its checksum or does not fit the record is not used: the stored idx is read', async (t) => {
      const stores = await backend.open(t);
      const repo = newRepository(stores);
      await repo.packs.add(readFileSync(tipPack.packPath), tipPack.packSize, tipPack.idx, tipPack.checksum);
      const scope = repositoryScope(repo.info.id);
      const key = `pack:${tipPack.checksum}`;
      const original = (await stores.kv.get(scope, key))!;
      const withTables = async (tables: Buffer) => {
        const value = (await stores.kv.get(scope, key))!;
        const record = { ...(JSON.parse(original) as object), idxTables: tables.toString('base64') };
        await stores.kv.compareAndSwap(scope, [{ key, expect: value, value: JSON.stringify(record) }], 'all');
      };
      const tables = packIndexTables(tipPack.idx);
      assert.ok(tables.length >= 2 * 28 + 20, 'two objects at least');
      const swapped = Buffer.concat([tables.subarray(20, 40), tables.subarray(0, 20), tables.subarray(40)]);
      const crcFlipped = Buffer.from(tables);
      crcFlipped[20 * ((tables.length - 20) / 28)] ^= 1;
      const cases = [
        { tables: swapped, warning: /idx in the record of pack .* is unusable, reading the stored one: .*not after object 0 in id order/ },
        { tables: crcFlipped, warning: /idx in the record of pack .* is unusable, reading the stored one: idx checksum mismatch/ },
        { tables: tables.subarray(28), warning: undefined },
      ];
      for (const { tables: bad, warning } of cases) {
        await withTables(bad);
        const warnings: string[] = [];
        const gets: Array<{ key: string; range?: ByteRange }> = [];
        const reader = newRepository({
          ...stores,
          ...caches(),
          blobs: recordingGets(stores.blobs, gets),
          onSidecarWarning: (message) => warnings.push(message),
        });
        const objects = verifyPack(tipPack).map((o) => o.oid);
        assert.equal(await assertReadsLikeGit(reader.objects, objects), objects.length);
        assert.ok(
          gets.some(({ range }) => range !== undefined && range.start === tipPack.packSize),
          'the stored idx was read',
        );
        if (warning) assert.match(warnings.join('\n'), warning);
        else assert.deepEqual(warnings, [], 'tables that do not fit the record are left out when it is read');
      }
    });

    test('with joinPacks off, a pack added from its bytes is stored as a .pack and an .idx (what servers before the joined layout read)', async (t) => {
      const stores = await backend.open(t);
      const repo = newRepository({ ...stores, joinPacks: false });
      await repo.packs.add(readFileSync(olderPack.packPath), olderPack.packSize, olderPack.idx, olderPack.checksum);
      assert.ok((await stores.blobs.get(packBlobKey(repo.info.id, olderPack.checksum)))?.equals(readFileSync(olderPack.packPath)));
      assert.ok((await stores.blobs.get(idxBlobKey(repo.info.id, olderPack.checksum)))?.equals(olderPack.idx));
      assert.equal(await stores.blobs.head(joinedPackBlobKey(repo.info.id, olderPack.checksum)), undefined);
      const [record] = await stores.kv.scan(repositoryScope(repo.info.id), 'pack:');
      assert.equal(JSON.parse(record.value).layout, undefined);
    });

    test('a pack from bytes whose idx has a table of 64-bit offsets is stored as a .pack and an .idx, and reads like git', async (t) => {
      const stores = await backend.open(t);
      const repo = newRepository(stores);
      // git writes every offset above 0 to the 64-bit table: a joined blob's idx length could not be told from its object count.
      const idxPath = path.join(tempDir(t, 'large-offsets'), 'pack.idx');
      git(workDir, ['index-pack', '--index-version=2,0', '-o', idxPath, olderPack.packPath]);
      const idx = readFileSync(idxPath);
      assert.ok(idx.length > olderPack.idx.length);
      await repo.packs.add(readFileSync(olderPack.packPath), olderPack.packSize, idx, olderPack.checksum);
      assert.ok((await stores.blobs.get(idxBlobKey(repo.info.id, olderPack.checksum)))?.equals(idx));
      assert.equal(await stores.blobs.head(joinedPackBlobKey(repo.info.id, olderPack.checksum)), undefined);
      const reader = newRepository({ ...stores, ...caches() });
      await assertReadsLikeGit(
        reader.objects,
        verifyPack(olderPack).map((o) => o.oid),
      );
    });

    test('add stores pack and idx under the repository, registers once, and is idempotent', async (t) => {
      const stores = await backend.open(t);
      const repo = newRepository(stores);
      await addPack(repo.packs, deepPack);
      await addPack(repo.packs, deepPack);
      const stored = await stores.blobs.get(packBlobKey(repo.info.id, deepPack.checksum));
      assert.ok(stored?.equals(readFileSync(deepPack.packPath)));
      assert.ok((await stores.blobs.get(idxBlobKey(repo.info.id, deepPack.checksum)))?.equals(deepPack.idx));
      const registry = await stores.kv.scan(repositoryScope(repo.info.id), 'pack:');
      assert.equal(registry.length, 1);
      assert.equal(registry[0].key, `pack:${deepPack.checksum}`);
      const record = JSON.parse(registry[0].value);
      assert.equal(record.size, deepPack.packSize);
      assert.equal(record.objects, expected.size);
      assert.ok(!Number.isNaN(Date.parse(record.createdAt)));
    });
  });
}

describe('PackAccess.add failures', () => {
  test('a pack whose idx is not durable is never registered', async (t) => {
    const blobs = new MemoryBlobStore();
    const failingIdx: BlobStore = Object.assign(Object.create(blobs) as BlobStore, {
      putIfAbsent: async (key: string, body: Parameters<BlobStore['putIfAbsent']>[1]) => {
        if (key.endsWith('.idx')) throw new Error('disk full');
        return blobs.putIfAbsent(key, body);
      },
    });
    const kv = new MemoryKVStore();
    const repo = newRepository({ blobs: failingIdx, kv, ...caches() }, 'r1');
    await assert.rejects(addPack(repo.packs, olderPack), /disk full/);
    assert.deepEqual(await kv.scan(repositoryScope('r1'), ''), []);
    const [first] = verifyPack(olderPack);
    assert.equal(await repo.objects.has(first.oid), false);
    t.diagnostic('the orphan .pack stays for the collector');
  });

  test('refuses an idx of another pack, a wrong size or a file that is not the pack, storing nothing', async () => {
    const blobs = new MemoryBlobStore();
    const kv = new MemoryKVStore();
    const { packs } = newRepository({ blobs, kv, ...caches() }, 'r2');
    await assert.rejects(packs.add(olderPack.packPath, olderPack.packSize, newerPack.idx, olderPack.checksum), CorruptPackError);
    await assert.rejects(packs.add(newerPack.packPath, olderPack.packSize, olderPack.idx, olderPack.checksum), CorruptPackError);
    await assert.rejects(packs.add(olderPack.packPath + '.missing', olderPack.packSize, olderPack.idx, olderPack.checksum), {
      code: 'ENOENT',
    });
    await assert.rejects(packs.add(olderPack.packPath, olderPack.packSize, olderPack.idx, 'not-an-id'), TypeError);
    const stored: string[] = [];
    for await (const blob of blobs.list('')) stored.push(blob.key);
    assert.deepEqual(stored, []);
    assert.deepEqual(await kv.scan(repositoryScope('r2'), ''), []);
  });
});

describe('typed errors for what the stores lack or contradict', () => {
  test('a pack registered but gone from the blob store, or never registered, is a MissingPackError', async () => {
    const stores: Stores = { blobs: new MemoryBlobStore(), kv: new MemoryKVStore(), ...caches() };
    const { packs } = newRepository(stores, 'r5');
    await addPack(packs, deepPack);
    const [object] = verifyPack(deepPack);
    await stores.blobs.delete(packBlobKey('r5', deepPack.checksum));
    // Another process: nothing of the pack is cached there.
    const reader = newRepository({ ...stores, ...caches() }, 'r5');
    await assert.rejects(reader.objects.read(object.oid), (error) => error instanceof MissingPackError && error.pack === deepPack.checksum);
    await assert.rejects(reader.packs.stream(deepPack.checksum, 12, 100), MissingPackError);
    await stores.blobs.delete(idxBlobKey('r5', deepPack.checksum));
    await assert.rejects(newRepository({ ...stores, ...caches() }, 'r5').objects.has(object.oid), MissingPackError);
    await assert.rejects(reader.packs.index('f'.repeat(40)), MissingPackError);
  });
});

describe('ObjectReader.header on deltas', () => {
  test("a fresh instance gives every delta's target size and base type from headers alone", async () => {
    const stores: Stores = { blobs: new MemoryBlobStore(), kv: new MemoryKVStore(), ...caches() };
    const { objects, packs } = newRepository(stores, 'r3');
    await addPack(packs, deepPack);
    const deltas = verifyPack(deepPack).filter((o: PackedObject) => o.baseOid);
    assert.ok(deltas.length > 100);
    // Some deltas must be longer than the bytes header() first inflates, or only half is tested.
    const bigDeltas = verifyPack(deepPack).filter((o) => o.baseOid && o.packedSize > 512);
    assert.ok(bigDeltas.length > 10, `only ${bigDeltas.length} large deltas`);
    for (const delta of deltas) {
      const want = expected.get(delta.oid)!;
      assert.deepEqual(await objects.header(delta.oid), { type: want.type, size: want.data.length });
    }
  });
});

describe('ObjectReader reads chains no deeper than git writes', () => {
  test('a chain of GIT_MAX_DELTA_DEPTH deltas reads; one delta more is refused, by read and header alike', async (t) => {
    const dir = tempDir(t, 'chain');
    const store = async (depth: number) => {
      const packPath = path.join(dir, `chain-${depth}.pack`);
      writeFileSync(packPath, deltaChain(depth));
      const indexed = await indexPack(packPath, { maxObjectSize: 1 << 20, resolveExternal: async () => undefined });
      const { objects, packs } = newRepository({ blobs: new MemoryBlobStore(), kv: new MemoryKVStore(), ...caches() }, `chain${depth}`);
      await packs.add(packPath, indexed.packSize, indexed.idx, indexed.checksum);
      // The tip: the object with the most content, at the end of the chain.
      const tip = indexed.entries[indexed.objectCount - 1].oid;
      return { objects, tip };
    };
    const deepest = await store(GIT_MAX_DELTA_DEPTH);
    assert.equal((await deepest.objects.read(deepest.tip))?.data.length, 100 + 4 * GIT_MAX_DELTA_DEPTH);
    const tooDeep = await store(GIT_MAX_DELTA_DEPTH + 1);
    const chainTooLong = (error: unknown) =>
      error instanceof CorruptPackError && /delta chain longer than 4095, deeper than git writes/.test(error.message);
    await assert.rejects(tooDeep.objects.read(tooDeep.tip), chainTooLong);
    await assert.rejects(tooDeep.objects.header(tooDeep.tip), chainTooLong);
  });
});

describe('ObjectReader reads that overlap', () => {
  test('reads of one delta chain at once apply each delta once, and give what git gives', async () => {
    const resolvedTimes = new Map<string, number>();
    const deltaBases = new (class extends DeltaBaseCache {
      override set(pack: string, offset: number, object: Parameters<DeltaBaseCache['set']>[2]): void {
        resolvedTimes.set(`${pack}:${offset}`, (resolvedTimes.get(`${pack}:${offset}`) ?? 0) + 1);
        super.set(pack, offset, object);
      }
    })({ maxBytes: 64 * 1024 * 1024 });
    const stores: Stores = { blobs: new MemoryBlobStore(), kv: new MemoryKVStore(), ...caches(), deltaBases };
    const { objects, packs } = newRepository(stores, 'overlap');
    await addPack(packs, deepPack);
    const oids = [...expected.keys()];
    const read = await Promise.all(oids.map((oid) => objects.read(oid)));
    oids.forEach((oid, i) => assert.ok(read[i]?.data.equals(expected.get(oid)!.data), `content of ${oid}`));
    const deltas = verifyPack(deepPack).filter((o) => o.baseOid).length;
    assert.ok(resolvedTimes.size >= deltas, `${resolvedTimes.size} entries resolved, the pack has ${deltas} deltas`);
    const twice = [...resolvedTimes].filter(([, times]) => times > 1);
    assert.deepEqual(twice, [], 'entries resolved more than once');
  });

  test('ref-deltas that make a cycle across two packs fail every read at once, none waits forever', async (t) => {
    const dir = tempDir(t, 'cycle');
    const first = Buffer.from('first version\n');
    const second = Buffer.from('second version\n');
    // Each object a ref-delta whose base is the other: indexed alone, each pack is sound.
    const deltaTo = (target: Buffer, baseSize: number) => Buffer.from([baseSize, target.length, target.length, ...target]);
    const { objects, packs } = newRepository({ blobs: new MemoryBlobStore(), kv: new MemoryKVStore(), ...caches() }, 'cycle');
    // A thin pack of one ref-delta, registered as it is: receive-pack would have appended the base.
    const store = async (name: string, target: Buffer, base: Buffer) => {
      const packPath = path.join(dir, `${name}.pack`);
      const pack = buildPack([{ kind: 'ref-delta', baseOid: sha1Object('blob', base), delta: deltaTo(target, base.length) }]);
      writeFileSync(packPath, pack);
      const oid = sha1Object('blob', target);
      const checksum = pack.subarray(pack.length - 20).toString('hex');
      await packs.add(packPath, pack.length, writePackIndex([{ oid, offset: 12, crc32: 0 }], checksum), checksum);
      return oid;
    };
    const firstOid = await store('first', first, second);
    const secondOid = await store('second', second, first);
    const chainTooLong = (error: unknown) => error instanceof CorruptPackError && /delta chain longer than/.test(error.message);
    const reads = [firstOid, secondOid, firstOid].map((oid) => objects.read(oid));
    for (const read of reads) await assert.rejects(read, chainTooLong);
    await assert.rejects(objects.read(secondOid), chainTooLong);
  });
});

describe('two server processes over one data directory', () => {
  test('a push through one is readable through the other, refs and objects', async (t) => {
    const dir = tempDir(t, 'two-processes');
    const openProcess = async (): Promise<Stores> => {
      const stores = {
        blobs: await FsBlobStore.open(path.join(dir, 'blobs')),
        kv: new SqliteKVStore(path.join(dir, 'kv.sqlite')),
        ...caches(),
      };
      t.after(async () => {
        await stores.blobs.close();
        await stores.kv.close();
      });
      return stores;
    };
    const first = new RepositoryRegistry(await openProcess());
    const second = new RepositoryRegistry(await openProcess());
    const pushed = await first.create('o', 'r');
    const served = (await second.open('o', 'r'))!;
    assert.equal(await served.refs.get('refs/heads/main'), undefined);
    assert.deepEqual(await served.packs.list(), []);

    // As receive-pack does it: pack registered first, then the ref moves.
    await addPack(pushed.packs, deepPack);
    const tipOid = git(source, ['rev-parse', 'main']).toString().trim();
    assert.deepEqual(
      await pushed.refs.update([{ name: 'refs/heads/main', oldOid: '0'.repeat(40), newOid: tipOid }], { atomic: true, message: 'push' }),
      [],
    );

    const ref = await served.refs.get('HEAD');
    assert.equal(ref, tipOid);
    const commit = await served.objects.read(ref);
    assert.equal(commit?.type, 'commit');
    assert.ok(commit.data.equals(expected.get(tipOid)!.data));
  });
});

describe('pack registry refreshes', () => {
  test('concurrent misses share one scan of the registry', async () => {
    const kv = new MemoryKVStore();
    let scans = 0;
    const counting = Object.assign(Object.create(kv) as MemoryKVStore, {
      scan: (scope: string, prefix: string) => {
        scans++;
        return kv.scan(scope, prefix);
      },
    });
    const { objects, packs } = newRepository({ blobs: new MemoryBlobStore(), kv: counting, ...caches() }, 'r4');
    const missing = Array.from({ length: 10 }, (_, i) => i.toString(16).padStart(40, 'e'));
    // The first load starts after these lookups began, so it answers their misses too.
    assert.deepEqual(await Promise.all(missing.map((oid) => objects.has(oid))), Array(10).fill(false));
    assert.equal(scans, 1);
    assert.deepEqual(await Promise.all(missing.map((oid) => objects.has(oid))), Array(10).fill(false));
    assert.equal(scans, 2);
    await packs.refresh();
    assert.equal(scans, 3, 'an explicit refresh always reads the registry');
  });
});
