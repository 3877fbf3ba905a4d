import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PackIndex } from '../src/pack/index-file.js';
import { indexPack } from '../src/pack/indexer.js';
import { PackWriter } from '../src/pack/writer.js';
import { gitStatus } from '@gitfleet/test-support/git';
import { buildFixtureRepo } from '@gitfleet/test-support/histories';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { gitIndexPack, packObjects } from './pack-fixtures.js';

let repo: string;
const dir = tempDir({ after }, 'pack-writer');

before(() => {
  repo = buildFixtureRepo(dir, { hugeFile: false, commits: 10 });
});

/** The stored entries of a git pack, as (header+data) byte ranges in the given order. */
function storedEntries(pack: Buffer): { start: number; end: number }[] {
  const index = PackIndex.parse(gitIndexPack(writeTemp(pack)), pack.length);
  return [...index.entries()].map((e) => ({ start: e.offset, end: index.entryEnd(e.offset) })).sort((a, b) => a.start - b.start);
}

let temp = 0;
function writeTemp(bytes: Buffer): string {
  const path = join(dir, `t${temp++}.pack`);
  writeFileSync(path, bytes);
  return path;
}

describe('PackWriter', () => {
  test('copying every stored entry in order reproduces the pack byte for byte', () => {
    const pack = readFileSync(packObjects(repo, [], join(dir, 'ofs.pack'), ['--all', '--delta-base-offset']));
    const entries = storedEntries(pack);
    const writer = new PackWriter(entries.length);
    const chunks = [writer.header()];
    for (const { start, end } of entries) {
      assert.equal(writer.offset, start);
      // Split anywhere: the header is whatever prefix the caller hands over.
      chunks.push(...writer.entry(pack.subarray(start, start + 3), pack.subarray(start + 3, end)));
    }
    chunks.push(writer.trailer());
    const out = Buffer.concat(chunks);
    assert.ok(out.equals(pack));
    assert.equal(writer.checksum, pack.subarray(pack.length - 20).toString('hex'));
    assert.equal(writer.offset, pack.length);
  });

  test('ref-delta entries in reverse order (each base after its deltas) make a pack git verifies and indexPack indexes alike', async () => {
    const pack = readFileSync(packObjects(repo, [], join(dir, 'ref.pack'), ['--all']));
    const entries = storedEntries(pack).reverse();
    const writer = new PackWriter(entries.length);
    const chunks = [writer.header()];
    for (const { start, end } of entries) chunks.push(...writer.entry(Buffer.alloc(0), pack.subarray(start, end)));
    chunks.push(writer.trailer());
    const path = writeTemp(Buffer.concat(chunks));
    const idx = gitIndexPack(path);
    writeFileSync(path.replace(/\.pack$/, '.idx'), idx);
    const verify = gitStatus(dir, ['verify-pack', path.replace(/\.pack$/, '.idx')]);
    assert.equal(verify.status, 0, verify.stderr);
    const ours = await indexPack(path, { maxObjectSize: 1 << 24, resolveExternal: async () => undefined });
    assert.ok(ours.idx.equals(idx));
  });

  test('misuse is refused: entries before the header, too many or too few entries', () => {
    const writer = new PackWriter(1);
    assert.throws(() => writer.entry(Buffer.from([0x30]), Buffer.alloc(8)), /before the header/);
    writer.header();
    assert.throws(() => writer.header(), /once/);
    assert.throws(() => writer.trailer(), /0 entries written, 1 announced/);
    writer.entry(Buffer.from([0x30]), Buffer.alloc(8));
    assert.throws(() => writer.entry(Buffer.from([0x30]), Buffer.alloc(8)), /more than the 1 announced/);
    assert.equal(writer.checksum, undefined);
    writer.trailer();
    assert.match(writer.checksum ?? '', /^[0-9a-f]{40}$/);
  });
});
