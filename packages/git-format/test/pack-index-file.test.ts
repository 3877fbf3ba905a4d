import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import zlib from 'node:zlib';
import { crc32Table } from '../src/pack/crc32.js';
import { PackFormatError, parseEntryHeader } from '../src/pack/entry.js';
import { PackIndex, packIndexFromTables, packIndexSize, packIndexTables, writePackIndex } from '../src/pack/index-file.js';
import { git } from '@gitfleet/test-support/git';
import { buildFixtureRepo } from '@gitfleet/test-support/histories';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { gitIndexPack, packObjects } from './pack-fixtures.js';

interface VerifyLine {
  oid: string;
  type: string;
  size: number;
  packedSize: number;
  offset: number;
  base?: string;
}

/** `git verify-pack -v`: every entry's id, type, size, size in the pack, offset, and delta base. */
function verifyPack(idxPath: string): VerifyLine[] {
  const out = git(join(idxPath, '..'), ['verify-pack', '-v', idxPath]).toString();
  return out
    .split('\n')
    .filter((line) => /^[0-9a-f]{40} /.test(line))
    .map((line) => {
      const [oid, type, size, packedSize, offset, , base] = line.split(/ +/);
      return { oid, type, size: Number(size), packedSize: Number(packedSize), offset: Number(offset), base };
    });
}

let repo: string;
const dir = tempDir({ after }, 'pack-index');
const packs: { name: string; pack: Buffer; idx: Buffer; lines: VerifyLine[] }[] = [];

before(() => {
  repo = buildFixtureRepo(dir, { hugeFile: false, commits: 15 });
  for (const [name, flags] of [
    ['ofs', ['--delta-base-offset']],
    ['ref', []],
  ] as const) {
    const packPath = packObjects(repo, [], join(dir, `${name}.pack`), ['--all', ...flags]);
    const idx = gitIndexPack(packPath);
    const idxPath = join(dir, `${name}.idx`);
    git(dir, ['index-pack', '-o', idxPath, packPath]);
    packs.push({ name, pack: readFileSync(packPath), idx, lines: verifyPack(idxPath) });
  }
});

describe('PackIndex over idx files written by git', () => {
  test('find, entryEnd, oidAt and entry headers agree with git verify-pack -v', () => {
    for (const { name, pack, idx, lines } of packs) {
      const index = PackIndex.parse(idx, pack.length);
      assert.equal(index.objectCount, lines.length);
      assert.equal(index.packChecksum, pack.subarray(pack.length - 20).toString('hex'));
      let deltas = 0;
      for (const line of lines) {
        assert.equal(index.find(line.oid), line.offset, `${name}: offset of ${line.oid}`);
        assert.equal(index.entryEnd(line.offset) - line.offset, line.packedSize, `${name}: packed size of ${line.oid}`);
        assert.equal(index.oidAt(line.offset), line.oid);
        const header = parseEntryHeader(pack, line.offset, line.offset);
        assert.equal(header.size, line.size, `${name}: size of ${line.oid}`);
        if (line.base === undefined) {
          assert.equal(header.kind, 'object');
          if (header.kind === 'object') assert.equal(header.type, line.type);
        } else {
          deltas++;
          if (name === 'ofs') {
            assert.equal(header.kind, 'ofs-delta');
            if (header.kind === 'ofs-delta') assert.equal(index.oidAt(header.baseOffset), line.base);
          } else {
            assert.equal(header.kind, 'ref-delta');
            if (header.kind === 'ref-delta') assert.equal(header.baseOid, line.base);
          }
        }
      }
      assert.ok(deltas > 20, `${name}: the pack has deltas`);
      const entries = [...index.entries()];
      assert.deepEqual(
        entries.map((e) => e.oid),
        lines.map((l) => l.oid).sort(),
      );
    }
  });

  test('absent ids, and offsets where no entry starts', () => {
    const { pack, idx, lines } = packs[0];
    const index = PackIndex.parse(idx, pack.length);
    const present = new Set(lines.map((l) => l.oid));
    for (const probe of ['0'.repeat(40), 'f'.repeat(40), lines[0].oid.replace(/.$/, (c) => (c === '0' ? '1' : '0')), 'zz', '']) {
      if (!present.has(probe)) assert.equal(index.find(probe), undefined, probe);
    }
    assert.equal(index.oidAt(lines[0].offset + 1), undefined);
    assert.throws(() => index.entryEnd(lines[0].offset + 1), PackFormatError);
    assert.ok(index.byteSize >= idx.length);
  });

  test('64-bit offsets: git writes them on request, and lookups follow them', () => {
    const { pack, lines } = packs[0];
    // --index-version=2,<limit> makes git use the 64-bit table for every offset above the limit.
    const idxPath = join(dir, 'large.idx');
    git(dir, ['index-pack', '--index-version=2,0x400', '-o', idxPath, join(dir, 'ofs.pack')]);
    const idx = readFileSync(idxPath);
    const index = PackIndex.parse(idx, pack.length);
    assert.ok(idx.length > packs[0].idx.length, 'the idx has a 64-bit offset table');
    for (const line of lines) {
      assert.equal(index.find(line.oid), line.offset);
      assert.equal(index.oidAt(line.offset), line.oid);
    }
  });

  test("an idx's tables give back the bytes git index-pack wrote, and nothing else does", () => {
    for (const { pack, idx } of packs) {
      const tables = packIndexTables(idx);
      const count = PackIndex.parse(idx, pack.length).objectCount;
      assert.equal(tables.length, 28 * count + 20, 'ids, CRCs and offsets, then the checksum');
      assert.equal(tables.length, idx.length - packIndexSize(0) + 20);
      assert.ok(packIndexFromTables(tables, pack.subarray(pack.length - 20).toString('hex')).equals(idx));
    }
    const { pack, idx } = packs[0];
    const packChecksum = pack.subarray(pack.length - 20).toString('hex');
    const tables = packIndexTables(idx);
    const swapped = Buffer.from(tables);
    tables.copy(swapped, 0, 20, 40);
    tables.copy(swapped, 20, 0, 20);
    assert.throws(() => packIndexFromTables(swapped, packChecksum), /not after object 0 in id order/);
    assert.throws(() => packIndexFromTables(tables.subarray(1), packChecksum), /not 28 bytes per object and a checksum/);
    // A CRC is not in id order: only the checksum tells that it changed.
    const crcFlipped = Buffer.from(tables);
    crcFlipped[(20 * (tables.length - 20)) / 28] ^= 1;
    assert.throws(() => PackIndex.parse(packIndexFromTables(crcFlipped, packChecksum), pack.length), /idx checksum mismatch/);
    const large = join(dir, 'large-tables.idx');
    git(dir, ['index-pack', '--index-version=2,0x400', '-o', large, join(dir, 'ofs.pack')]);
    assert.throws(() => packIndexTables(readFileSync(large)), /64-bit offsets/);
  });

  test('writePackIndex gives the bytes git index-pack gives, from entries in any order', () => {
    for (const { pack, idx } of packs) {
      const entries = [...PackIndex.parse(idx, pack.length).entries()].reverse();
      assert.ok(writePackIndex(entries, pack.subarray(pack.length - 20).toString('hex')).equals(idx));
    }
  });

  test('writePackIndex sorts ids alike below and above the size where it switches to a counting sort', () => {
    for (const count of [1, 3, 4095, 4096, 20_000]) {
      // Ids sharing their first two bytes in pairs put several in one bucket of the counting sort.
      const entries = Array.from({ length: count }, (_, i) => {
        const oid = randomBytes(20);
        if (i % 2 === 1) oid.writeUInt16BE(i % 7);
        return { oid: oid.toString('hex'), offset: 12 + i, crc32: i };
      });
      const index = PackIndex.parse(writePackIndex(entries, 'a'.repeat(40)), 12 + count + 20);
      const expected = [...entries].sort((a, b) => (a.oid < b.oid ? -1 : 1));
      assert.deepEqual(
        [...index.entries()].sort((a, b) => (a.oid < b.oid ? -1 : 1)),
        expected,
        `${count} entries`,
      );
      assert.equal(index.objectIdBytes().toString('hex'), expected.map((entry) => entry.oid).join(''), `${count} entries in id order`);
    }
  });

  test('writePackIndex uses the 64-bit table past 2 GiB, and PackIndex reads it back', () => {
    const entries = [
      { oid: '1'.repeat(40), offset: 12, crc32: 1 },
      { oid: '2'.repeat(40), offset: 0x7fffffff, crc32: 2 },
      { oid: '3'.repeat(40), offset: 0x80000000, crc32: 3 },
      { oid: '4'.repeat(40), offset: 5 * 2 ** 32 + 7, crc32: 0xffffffff },
    ];
    const idx = writePackIndex(entries, 'a'.repeat(40));
    assert.equal(idx.length, 8 + 1024 + 4 * 28 + 2 * 8 + 40);
    const index = PackIndex.parse(idx, 6 * 2 ** 32);
    assert.deepEqual([...index.entries()], entries);
    assert.equal(index.entryEnd(0x80000000), 5 * 2 ** 32 + 7);
    assert.equal(index.entryEnd(5 * 2 ** 32 + 7), 6 * 2 ** 32 - 20);
    assert.throws(() => writePackIndex([entries[0], entries[0]], 'a'.repeat(40)), /appears twice/);
  });

  test('the table-driven CRC-32 agrees with zlib', () => {
    for (const length of [0, 1, 7, 1000, 65537]) {
      const data = randomBytes(length);
      assert.equal(crc32Table(data), zlib.crc32(data));
    }
  });

  test('malformed idx files are refused', () => {
    const { pack, idx } = packs[0];
    const flipped = Buffer.from(idx);
    flipped[2000] ^= 1;
    assert.throws(() => PackIndex.parse(flipped, pack.length), /checksum mismatch/);
    assert.throws(() => PackIndex.parse(idx.subarray(0, 100), pack.length), /truncated/);
    const v1 = Buffer.from(idx);
    v1.writeUInt32BE(0, 0);
    assert.throws(() => PackIndex.parse(v1, pack.length), /signature/);
    assert.throws(() => PackIndex.parse(idx, 100), /outside a pack of 100 bytes/);
  });
});
