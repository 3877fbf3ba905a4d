import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import zlib from 'node:zlib';
import { createDelta } from '../src/pack/delta.js';
import { PackFormatError, encodeEntryHeader } from '../src/pack/entry.js';
import { indexPack, type IndexPackOptions } from '../src/pack/indexer.js';
import { PackWriter } from '../src/pack/writer.js';
import { gitStatus } from '@gitfleet/test-support/git';
import { buildFixtureRepo } from '@gitfleet/test-support/histories';
import { buildPack, sha1Object, withFreshTrailer } from '@gitfleet/test-support/packs';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { packObjects } from './pack-fixtures.js';

const dir = tempDir({ after }, 'pack-corrupt');
let repo: string;
/** A real pack with ofs-deltas, small enough to corrupt at hundreds of points. */
let good: Buffer;
let goodRef: Buffer;
let n = 0;

before(() => {
  repo = buildFixtureRepo(dir, { hugeFile: false, commits: 12 });
  good = readFileSync(packObjects(repo, [], join(dir, 'good.pack'), ['--all', '--delta-base-offset']));
  goodRef = readFileSync(packObjects(repo, [], join(dir, 'good-ref.pack'), ['--all']));
});

const options: IndexPackOptions = { maxObjectSize: 1 << 20, resolveExternal: async () => undefined };

async function indexBytes(pack: Buffer, overrides: Partial<IndexPackOptions> = {}) {
  const path = join(dir, `case-${n++}.pack`);
  writeFileSync(path, pack);
  return indexPack(path, { ...options, ...overrides });
}

async function assertRefused(pack: Buffer, pattern?: RegExp, overrides: Partial<IndexPackOptions> = {}): Promise<void> {
  await assert.rejects(indexBytes(pack, overrides), (error: Error) => {
    assert.ok(error instanceof PackFormatError, `expected PackFormatError, got ${error.stack}`);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

describe('indexPack refuses corrupt packs with PackFormatError', () => {
  test('the uncorrupted packs index, and git agrees they are fine', async () => {
    assert.ok(good.length > 20_000 && goodRef.length > 20_000, 'packs big enough to be interesting');
    for (const pack of [good, goodRef]) {
      const result = await indexBytes(pack);
      assert.ok(result.objectCount > 50);
    }
    assert.equal(gitStatus(dir, ['index-pack', '-o', join(dir, 'g.idx'), join(dir, 'good.pack')]).status, 0);
  });

  test('truncated at 200 points, from inside the header to inside the trailer', async () => {
    const points = new Set([0, 1, 11, 12, 13, 14, 20, good.length - 21, good.length - 20, good.length - 1]);
    for (let k = 0; k < 190; k++) points.add(Math.floor((good.length * k) / 190));
    for (const length of points) await assertRefused(good.subarray(0, length));
  });

  test('truncated, then given a valid trailer: the entries themselves are found short', async () => {
    for (let k = 1; k < 60; k++) {
      const cut = 12 + Math.floor(((good.length - 32) * k) / 60);
      await assertRefused(withFreshTrailer(Buffer.concat([good.subarray(0, cut), Buffer.alloc(20)])));
    }
  });

  test('one flipped byte anywhere (both delta kinds)', async () => {
    for (const pack of [good, goodRef]) {
      for (let k = 0; k < 150; k++) {
        const copy = Buffer.from(pack);
        const at = Math.floor((copy.length * k) / 150);
        copy[at] ^= 0x5a;
        await assertRefused(copy);
      }
    }
  });

  test('one flipped byte with the trailer recomputed: caught by zlib, sizes, deltas or ids', async () => {
    // Hitting only what a fresh trailer cannot vouch for: every entry byte must be checked on its own.
    let refused = 0;
    for (let k = 0; k < 150; k++) {
      const copy = Buffer.from(good.subarray(0, good.length - 20));
      const at = 12 + Math.floor(((copy.length - 12) * k) / 150);
      copy[at] ^= 0x01;
      try {
        await indexBytes(withFreshTrailer(Buffer.concat([copy, Buffer.alloc(20)])));
      } catch (error) {
        assert.ok(error instanceof PackFormatError, `expected PackFormatError, got ${(error as Error).stack}`);
        refused++;
      }
    }
    // A flip inside a stored (uncompressed) deflate block changes content without breaking zlib's
    // framing, but adler32 still catches it: nothing corrupt may pass.
    assert.equal(refused, 150);
  });

  test('bad trailer, trailing garbage, bad signature, bad version', async () => {
    const badTrailer = Buffer.from(good);
    badTrailer[badTrailer.length - 1] ^= 1;
    await assertRefused(badTrailer, /checksum mismatch/);
    await assertRefused(Buffer.concat([good, Buffer.from('garbage')]), /unexpected data after its last entry/);
    await assertRefused(
      withFreshTrailer(Buffer.concat([good.subarray(0, good.length - 20), Buffer.from('more'), Buffer.alloc(20)])),
      /unexpected data/,
    );
    const badSignature = Buffer.from(good);
    badSignature.write('KCAP', 0, 'latin1');
    await assertRefused(badSignature, /signature/);
    const badVersion = Buffer.from(good);
    badVersion.writeUInt32BE(9, 4);
    await assertRefused(badVersion, /version 9/);
  });

  test('a header claiming more objects than present, or far more than the file can hold', async () => {
    const more = Buffer.from(good);
    more.writeUInt32BE(more.readUInt32BE(8) + 1, 8);
    await assertRefused(withFreshTrailer(more), /truncated/);
    const absurd = Buffer.from(good);
    absurd.writeUInt32BE(0xffffffff, 8);
    await assertRefused(withFreshTrailer(absurd), /claims 4294967295 objects/);
  });

  test('bomb: an entry declaring 100 bytes that inflates to 50 MB stops at the declared size', async () => {
    const pack = buildPack([{ kind: 'object', type: 'blob', data: Buffer.alloc(50 << 20), declaredSize: 100 }]);
    await assertRefused(pack, /inflates past its declared size of 100/);
  });

  test('bomb: an entry declaring a huge size is refused before inflating', async () => {
    const writer = new PackWriter(1);
    const pack = Buffer.concat([
      writer.header(),
      ...writer.entry(encodeEntryHeader({ kind: 'object', type: 'blob', size: 2 ** 40 }), zlib.deflateSync(Buffer.alloc(10))),
      writer.trailer(),
    ]);
    await assertRefused(pack, /declares 1099511627776 bytes, over the limit/);
  });

  test('objects and delta results over maxObjectSize', async () => {
    await assertRefused(buildPack([{ kind: 'object', type: 'blob', data: Buffer.alloc((1 << 20) + 1) }]), /over the limit/);
    const base = Buffer.alloc(1000, 'a');
    const target = Buffer.alloc((1 << 20) + 1, 'a');
    await assertRefused(
      buildPack([
        { kind: 'object', type: 'blob', data: base },
        { kind: 'ofs-delta', distance: entryLength(base), delta: createDelta(base, target) },
      ]),
      /produces 1048577 bytes, over the limit/,
    );
  });

  test('deltas: dangling ofs base, missing ref base, base cycle, wrong base size, corrupt opcodes', async () => {
    const a = Buffer.from('the quick brown fox jumps over the lazy dog\n'.repeat(20));
    const b = Buffer.concat([a, Buffer.from('and one more line\n')]);
    const aOid = sha1Object('blob', a);
    const bOid = sha1Object('blob', b);
    const aEntryLength = entryLength(a);

    await assertRefused(
      buildPack([
        { kind: 'object', type: 'blob', data: a },
        { kind: 'ofs-delta', distance: aEntryLength - 1, delta: createDelta(a, b) },
      ]),
      /where no entry starts/,
    );
    await assertRefused(buildPack([{ kind: 'ofs-delta', distance: 100, delta: createDelta(a, b) }]), /points outside the pack/);
    await assertRefused(buildPack([{ kind: 'ref-delta', baseOid: aOid, delta: createDelta(a, b) }]), new RegExp(`needs base ${aOid}`));
    // b is a delta on a, a a delta on b: neither can ever be built.
    await assertRefused(
      buildPack([
        { kind: 'ref-delta', baseOid: aOid, delta: createDelta(a, b) },
        { kind: 'ref-delta', baseOid: bOid, delta: createDelta(b, a) },
      ]),
      /needs base/,
    );
    await assertRefused(
      buildPack([
        { kind: 'object', type: 'blob', data: b },
        { kind: 'ref-delta', baseOid: bOid, delta: createDelta(a, b) },
      ]),
      /expects a base of 880 bytes, the base has 898/,
    );
    const badCopy = Buffer.from([(a.length & 0x7f) | 0x80, a.length >> 7, 4, 0x93, 0xff, 0x03, 4]);
    await assertRefused(
      buildPack([
        { kind: 'object', type: 'blob', data: a },
        { kind: 'ref-delta', baseOid: aOid, delta: badCopy },
      ]),
      /copies base bytes 1023\.\.1027/,
    );
    const reserved = Buffer.from([(a.length & 0x7f) | 0x80, a.length >> 7, 1, 0]);
    await assertRefused(
      buildPack([
        { kind: 'object', type: 'blob', data: a },
        { kind: 'ref-delta', baseOid: aOid, delta: reserved },
      ]),
      /reserved opcode/,
    );
  });

  test('bad zlib data and invalid entry types', async () => {
    const pack = buildPack([{ kind: 'object', type: 'blob', data: Buffer.from('hello') }]);
    const badZlib = Buffer.from(pack);
    badZlib[13] ^= 0xff;
    await assertRefused(withFreshTrailer(badZlib), /corrupt zlib data/);
    const badType = Buffer.from(pack);
    badType[12] = (badType[12] & 0x8f) | (5 << 4);
    await assertRefused(withFreshTrailer(badType), /invalid entry type 5 at offset 12/);
  });

  test('whole objects are reported as they are read, before the pack is known to be good', async () => {
    const reported: string[] = [];
    const pack = Buffer.from(good);
    pack[pack.length - 1] ^= 1;
    await assertRefused(pack, /checksum/, { onObject: (oid) => void reported.push(oid) });
    // Whole objects are reported while reading; the caller must not act on them before indexPack resolves.
    assert.ok(reported.length > 0);
  });
});

/** Length of the entry buildPack writes for a blob: the ofs-delta distance to the entry after it. */
function entryLength(data: Buffer): number {
  return encodeEntryHeader({ kind: 'object', type: 'blob', size: data.length }).length + zlib.deflateSync(data).length;
}
