import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MemoryBlobStore, MemoryKVStore } from '@gitfleet/storage';
import { planPack, Repository, streamPack, type PackStats, type PackStreamOptions } from '../src/index.js';
import { caches } from './backends.js';
import { git } from '@gitfleet/test-support/git';
import { buildHistory } from '@gitfleet/test-support/histories';
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

async function storedRepository(): Promise<Repository> {
  const repo = new Repository(
    { id: 'pack0output0', owner: 'o', name: 'r', createdAt: new Date().toISOString(), private: false, description: '' },
    { blobs: new MemoryBlobStore(), kv: new MemoryKVStore(), ...caches() },
  );
  await repo.packs.add(wholePack.packPath, wholePack.packSize, wholePack.idx, wholePack.checksum);
  return repo;
}

/** Streams the pack of `send`, collecting its bytes and what the stream returned. */
async function outputPack(repo: Repository, options: PackStreamOptions): Promise<{ bytes: Buffer; stats: PackStats }> {
  const chunks: Buffer[] = [];
  const pack = streamPack(repo, await planPack(repo.packs, options.send), options);
  for (;;) {
    const next = await pack.next();
    if (next.done) return { bytes: Buffer.concat(chunks), stats: next.value };
    chunks.push(next.value);
  }
}

/** The objects of a pack as git reads it (git index-pack refuses a pack it cannot resolve whole). */
function gitReads(bytes: Buffer, name: string): PackedObject[] {
  const packPath = path.join(workDir, `${name}.pack`);
  writeFileSync(packPath, bytes);
  git(workDir, ['index-pack', packPath]);
  return verifyPack({ packPath, packSize: bytes.length, idx: Buffer.alloc(0), checksum: '' });
}

describe('pack output', () => {
  test('every stored entry is copied as stored, and the stream returns what the pack was made of', async () => {
    const repo = await storedRepository();
    const send = new Set(stored.map((o) => o.oid));
    const { bytes, stats } = await outputPack(repo, { send, ofsDelta: true, thin: false, clientHas: new Set() });
    const deltas = stored.filter((o) => o.baseOid).length;
    assert.ok(deltas > 0);
    assert.deepEqual(stats, { total: send.size, deltas, reused: send.size, reusedDeltas: deltas });
    const read = gitReads(bytes, 'whole');
    assert.deepEqual(new Set(read.map((o) => o.oid)), send);
    assert.equal(read.filter((o) => o.baseOid).length, deltas, 'deltas stay deltas');
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
    assert.deepEqual(new Set(gitReads(bytes, 'partial').map((o) => o.oid)), send);

    // A thin pack may keep those deltas: the client has their base.
    const thin = await outputPack(repo, { send, ofsDelta: false, thin: true, clientHas: new Set([left]) });
    assert.equal(thin.stats.reused, send.size);
  });
});
