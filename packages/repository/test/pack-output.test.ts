import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { createDelta, encodeEntryHeader, encodePackHeader, parseEntryHeader } from '@gitfleet/git-format';
import { MemoryBlobStore, MemoryKVStore } from '@gitfleet/storage';
import {
  observePackOutput,
  planPack,
  ReencodedEntryCache,
  Repository,
  streamPack,
  type PackStats,
  type PackStreamOptions,
} from '../src/index.js';
import { caches } from './backends.js';
import { git } from '@gitfleet/test-support/git';
import { buildHistory } from '@gitfleet/test-support/histories';
import { buildPack, sha1Object, type RawEntry } from '@gitfleet/test-support/packs';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { packObjects, verifyPack, type BuiltPack, type PackedObject } from './git-fixtures.js';

const workDir = tempDir({ after }, 'pack-output');
/** Every object, one pack, ofs-deltas. */
let wholePack: BuiltPack;
let stored: PackedObject[];

before(() => {
  const source = buildHistory(workDir, 40);
  const dir = path.join(workDir, 'whole');
  mkdirSync(dir);
  wholePack = packObjects(source, dir, ['--all'], { offsetDeltas: true });
  stored = verifyPack(wholePack);
});

async function storedRepository(
  reencodedEntries = new ReencodedEntryCache({ maxBytes: 1024 * 1024 }),
  pack: BuiltPack = wholePack,
): Promise<Repository> {
  const repo = new Repository(
    { id: 'pack0output0', owner: 'o', name: 'r', createdAt: new Date().toISOString(), private: false, description: '' },
    { blobs: new MemoryBlobStore(), kv: new MemoryKVStore(), ...caches(), reencodedEntries },
  );
  await repo.packs.add(pack.packPath, pack.packSize, pack.idx, pack.checksum);
  return repo;
}

/** Streams the pack of `send`, collecting its bytes and what the stream returned. */
async function outputPack(repo: Repository, options: PackStreamOptions): Promise<{ bytes: Buffer; stats: PackStats }> {
  const chunks: Buffer[] = [];
  const pack = streamPack(repo, await planPack(repo.packs, options.send), options);
  for (;;) {
    const next = await pack.next();
    if (next.done) return { bytes: Buffer.concat(chunks), stats: next.value };
    chunks.push(...next.value);
  }
}

/** The repository, its stored packs read in chunks of `size` bytes. */
function readInChunksOf(repo: Repository, size: number): Repository {
  const packs = new Proxy(repo.packs, {
    get(target, key) {
      if (key === 'stream') {
        return async (...args: Parameters<Repository['packs']['stream']>) => {
          const chunks: Buffer[] = [];
          for await (const chunk of await target.stream(...args)) chunks.push(chunk as Buffer);
          const whole = Buffer.concat(chunks);
          return Readable.from(Array.from({ length: Math.ceil(whole.length / size) }, (_, i) => whole.subarray(i * size, (i + 1) * size)));
        };
      }
      const value: unknown = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return Object.assign(Object.create(repo) as Repository, { packs });
}

/**
 * The pack of `send` as its stored entries, in stored order, each as stored but for an ofs-delta's
 * distance, pointed at where its base landed: what pack output must make of them.
 */
function storedEntriesMoved(pack: BuiltPack, entries: readonly PackedObject[], send: ReadonlySet<string>): Buffer {
  const storedPack = readFileSync(pack.packPath);
  const landedAt = new Map<number, number>();
  const out: Buffer[] = [encodePackHeader(send.size)];
  let at = 12;
  for (const entry of [...entries].sort((a, b) => a.offset - b.offset).filter((o) => send.has(o.oid))) {
    const raw = storedPack.subarray(entry.offset, entry.offset + entry.packedSize);
    const header = parseEntryHeader(raw, 0, entry.offset);
    landedAt.set(entry.offset, at);
    const outgoing =
      header.kind === 'ofs-delta'
        ? Buffer.concat([
            encodeEntryHeader({ kind: 'ofs-delta', size: header.size, distance: at - landedAt.get(header.baseOffset)! }),
            raw.subarray(header.headerLength),
          ])
        : raw;
    out.push(outgoing);
    at += outgoing.length;
  }
  const body = Buffer.concat(out);
  return Buffer.concat([body, createHash('sha1').update(body).digest()]);
}

/** The objects of a pack as git reads it (git index-pack refuses a pack it cannot resolve whole). */
function gitReads(bytes: Buffer, name: string): PackedObject[] {
  const packPath = path.join(workDir, `${name}.pack`);
  writeFileSync(packPath, bytes);
  git(workDir, ['index-pack', packPath]);
  return verifyPack({ packPath, packSize: bytes.length, idx: Buffer.alloc(0), checksum: '' });
}

/** The stats of a pack of `total` entries all copied from storage: everything but the 12-byte header and the 20-byte trailer. */
function everyEntryCopied(total: number, deltas: number, bytes: number): PackStats {
  return { total, deltas, reused: total, reusedDeltas: deltas, bytes, copiedBytes: bytes - 32, recompressedBytes: 0 };
}

describe('pack output', () => {
  test('every stored entry is copied as stored, and the stream returns what the pack was made of', async () => {
    const repo = await storedRepository();
    const send = new Set(stored.map((o) => o.oid));
    const { bytes, stats } = await outputPack(repo, { send, ofsDelta: true, thin: false, clientHas: new Set() });
    const deltas = stored.filter((o) => o.baseOid).length;
    assert.ok(deltas > 0);
    assert.deepEqual(stats, everyEntryCopied(send.size, deltas, bytes.length));
    const read = gitReads(bytes, 'whole');
    assert.deepEqual(new Set(read.map((o) => o.oid)), send);
    assert.equal(read.filter((o) => o.baseOid).length, deltas, 'deltas stay deltas');
  });

  test('a pack that leaves stored entries out: each entry goes out as stored, an ofs-delta pointed at where its base landed', async () => {
    const repo = await storedRepository();
    const byOffset = [...stored].sort((a, b) => a.offset - b.offset);
    const bases = new Set(stored.map((o) => o.baseOid));
    // Whole objects no delta is made from, spread over the pack: gaps, yet every delta keeps its base.
    const candidates = byOffset.filter((o) => !o.baseOid && !bases.has(o.oid));
    const left = candidates.filter((_, i) => i % Math.floor(candidates.length / 6) === 3);
    assert.ok(left.length >= 5);
    const send = new Set(stored.map((o) => o.oid).filter((oid) => !left.some((o) => o.oid === oid)));
    const { bytes, stats } = await outputPack(repo, { send, ofsDelta: true, thin: false, clientHas: new Set() });
    const deltas = stored.filter((o) => o.baseOid && send.has(o.oid)).length;
    assert.deepEqual(stats, everyEntryCopied(send.size, deltas, bytes.length));

    assert.ok(bytes.equals(storedEntriesMoved(wholePack, stored, send)), 'stored entries, ofs-delta distances rewritten across gaps');
    const crossing = byOffset.filter(
      (o) => o.baseOid && left.some((gap) => o.offset > gap.offset && gap.offset > stored.find((b) => b.oid === o.baseOid)!.offset),
    );
    assert.ok(crossing.length > 0, 'some delta reaches its base across a gap');
    const read = gitReads(bytes, 'gaps');
    assert.deepEqual(new Set(read.map((o) => o.oid)), send);
    assert.equal(read.filter((o) => o.baseOid).length, deltas, 'deltas stay deltas');
  });

  test('a delta whose base comes nearer gets a shorter header: the entries after it land that much earlier', async () => {
    const base = Buffer.from(Array.from({ length: 30 }, (_, i) => `line ${i}\n`).join(''));
    const changed = (what: string) => Buffer.concat([base, Buffer.from(`${what}\n`)]);
    // Hardly compressible: the gap stays about as long packed.
    const gap = Buffer.from(Array.from({ length: 160 }, (_, i) => (i * 7919) % 251));
    const entries: RawEntry[] = [];
    const nextOffset = () => buildPack(entries).length - 20;
    entries.push({ kind: 'object', type: 'blob', data: base });
    const gapAt = nextOffset();
    entries.push({ kind: 'object', type: 'blob', data: gap });
    const oneAt = nextOffset();
    entries.push({ kind: 'ofs-delta', distance: oneAt - 12, delta: createDelta(base, changed('one')) });
    entries.push({ kind: 'ofs-delta', distance: nextOffset() - oneAt, delta: createDelta(changed('one'), changed('two')) });
    entries.push({ kind: 'object', type: 'blob', data: Buffer.from('after the deltas\n') });
    entries.push({ kind: 'ofs-delta', distance: nextOffset() - 12, delta: createDelta(base, changed('three')) });
    // Stored 128 bytes or more after its base, the first delta's distance takes two bytes; with the gap left out, one.
    assert.ok(oneAt - 12 >= 128 && gapAt - 12 < 128, `base ${gapAt - 12} bytes, gap ${oneAt - gapAt}`);

    const packDir = path.join(workDir, 'nearer');
    mkdirSync(packDir);
    const packPath = path.join(packDir, 'nearer.pack');
    writeFileSync(packPath, buildPack(entries));
    git(packDir, ['index-pack', packPath]);
    const built: BuiltPack = {
      packPath,
      packSize: statSync(packPath).size,
      idx: readFileSync(path.join(packDir, 'nearer.idx')),
      checksum: readFileSync(packPath).subarray(-20).toString('hex'),
    };
    const objects = verifyPack(built);
    const repo = await storedRepository(undefined, built);
    const send = new Set(objects.map((o) => o.oid).filter((oid) => oid !== sha1Object('blob', gap)));
    const { bytes, stats } = await outputPack(repo, { send, ofsDelta: true, thin: false, clientHas: new Set() });
    assert.deepEqual(stats, everyEntryCopied(send.size, 3, bytes.length));
    const expected = storedEntriesMoved(built, objects, send);
    const storedBytes = objects.filter((o) => send.has(o.oid)).reduce((sum, o) => sum + o.packedSize, 0);
    assert.equal(expected.length, 32 + storedBytes - 1, 'one header a byte shorter');
    assert.ok(bytes.equals(expected));
    assert.equal(gitReads(bytes, 'nearer').filter((o) => o.baseOid).length, 3, 'deltas stay deltas');
  });

  test('the pack is the same whatever the size of the chunks the stored pack is read in', async () => {
    const repo = await storedRepository();
    const byOffset = [...stored].sort((a, b) => a.offset - b.offset);
    const bases = new Set(stored.map((o) => o.baseOid));
    const left = byOffset.filter((o) => !o.baseOid && !bases.has(o.oid)).filter((_, i) => i % 5 === 2);
    const send = new Set(stored.map((o) => o.oid).filter((oid) => !left.some((o) => o.oid === oid)));
    for (const ofsDelta of [true, false]) {
      const options = { send, ofsDelta, thin: false, clientHas: new Set<string>() };
      const expected = await outputPack(repo, options);
      for (const chunkSize of [1, 3, 7, 4096]) {
        const rechunked = await outputPack(readInChunksOf(repo, chunkSize), options);
        assert.ok(rechunked.bytes.equals(expected.bytes), `read in chunks of ${chunkSize} bytes, ofs-deltas ${ofsDelta}`);
        assert.deepEqual(rechunked.stats, expected.stats);
      }
    }
  });

  test('the observer the process set is told of each pack streamed whole, with what the stream returns', async () => {
    const repo = await storedRepository();
    const told: PackStats[] = [];
    observePackOutput({ packWritten: (stats) => told.push(stats) });
    try {
      const { stats } = await outputPack(repo, {
        send: new Set(stored.map((o) => o.oid)),
        ofsDelta: true,
        thin: false,
        clientHas: new Set(),
      });
      assert.deepEqual(told, [stats]);
    } finally {
      observePackOutput(undefined);
    }
  });

  test('a delta whose base is neither sent nor on the client is sent whole, and counted as not reused', async () => {
    const repo = await storedRepository();
    const bases = new Set(stored.filter((o) => o.baseOid).map((o) => o.baseOid!));
    // Leave out one base of a delta that is sent.
    const [left] = bases;
    const send = new Set(stored.map((o) => o.oid).filter((oid) => oid !== left));
    const orphans = stored.filter((o) => o.baseOid === left).length;
    const { bytes, stats } = await outputPack(repo, { send, ofsDelta: false, thin: false, clientHas: new Set() });
    assert.equal(stats.total, send.size);
    assert.equal(stats.reused, send.size - orphans);
    assert.ok(stats.recompressedBytes > 0);
    assert.equal(stats.copiedBytes + stats.recompressedBytes, bytes.length - 32);
    assert.deepEqual(new Set(gitReads(bytes, 'partial').map((o) => o.oid)), send);

    // A thin pack may keep those deltas: the client has their base.
    const thin = await outputPack(repo, { send, ofsDelta: false, thin: true, clientHas: new Set([left]) });
    assert.equal(thin.stats.reused, send.size);
  });

  test('a delta sent whole is re-encoded once: the next pack that sends it takes it from the cache, the same bytes', async () => {
    const cache = new ReencodedEntryCache({ maxBytes: 1024 * 1024 });
    const repo = await storedRepository(cache);
    const [left] = new Set(stored.filter((o) => o.baseOid).map((o) => o.baseOid!));
    const orphans = stored.filter((o) => o.baseOid === left);
    const send = new Set(stored.map((o) => o.oid).filter((oid) => oid !== left));
    const options = { send, ofsDelta: true, thin: false, clientHas: new Set<string>() };
    const index = await repo.packs.index(wholePack.checksum);
    const cached = () => orphans.filter((o) => cache.get(wholePack.checksum, index.find(o.oid)!) !== undefined).length;
    assert.equal(cached(), 0);
    const first = await outputPack(repo, options);
    assert.equal(cached(), orphans.length, 'each delta sent whole is kept');
    const second = await outputPack(repo, options);
    assert.ok(second.bytes.equals(first.bytes));
    assert.deepEqual(second.stats, first.stats);

    // Without room, nothing is kept and the pack is the same.
    const uncached = await outputPack(await storedRepository(new ReencodedEntryCache({ maxBytes: 0 })), options);
    assert.ok(uncached.bytes.equals(first.bytes));
  });

  test('a few objects of many are planned by lookups, a large share by reading the index: the same slices', async () => {
    const repo = await storedRepository();
    const index = await repo.packs.index(wholePack.checksum);
    const few = new Set(stored.slice(0, 2).map((o) => o.oid));
    assert.ok(few.size < stored.length / 32, 'few enough to be looked up');
    const [slice] = await planPack(repo.packs, few);
    assert.deepEqual(
      [...slice.offsets],
      [...few].map((oid) => index.find(oid)!).sort((a, b) => a - b),
    );
    const all = await planPack(repo.packs, new Set(stored.map((o) => o.oid)));
    assert.equal(all[0].offsets.length, stored.length);
    assert.ok(
      [...slice.offsets].every((offset) => all[0].offsets.includes(offset)),
      'the looked-up offsets are those the index read gives',
    );
  });
});
