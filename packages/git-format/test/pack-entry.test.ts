import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PackFormatError, encodeEntryHeader, encodePackHeader, parseEntryHeader, parsePackHeader } from '../src/pack/entry.js';

describe('pack entry headers', () => {
  test('object headers round-trip for sizes across every varint length', () => {
    for (const type of ['commit', 'tree', 'blob', 'tag'] as const) {
      for (const size of [0, 1, 15, 16, 127, 128, 2047, 2048, 2 ** 20, 2 ** 32 + 5, 2 ** 50 + 3]) {
        const bytes = encodeEntryHeader({ kind: 'object', type, size });
        assert.deepEqual(parseEntryHeader(Buffer.concat([Buffer.from([9, 9]), bytes, Buffer.from([0xff])]), 2, 500), {
          kind: 'object',
          type,
          size,
          headerLength: bytes.length,
        });
      }
    }
  });

  test('the size varint: 4 bits in the first byte, then 7 per byte, little-endian', () => {
    assert.deepEqual([...encodeEntryHeader({ kind: 'object', type: 'blob', size: 15 })], [0x3f]);
    assert.deepEqual([...encodeEntryHeader({ kind: 'object', type: 'blob', size: 16 })], [0xb0, 0x01]);
    assert.deepEqual([...encodeEntryHeader({ kind: 'object', type: 'commit', size: 300 })], [0x9c, 0x12]);
  });

  test('ofs-delta distances use the +1-per-continuation encoding', () => {
    // 128 is (0 + 1) * 128 + 0: two bytes 0x80 0x00, not 0x81 0x00 as plain base-128 would give.
    assert.deepEqual([...encodeEntryHeader({ kind: 'ofs-delta', size: 5, distance: 128 })], [0x65, 0x80, 0x00]);
    assert.deepEqual([...encodeEntryHeader({ kind: 'ofs-delta', size: 5, distance: 127 })], [0x65, 0x7f]);
    assert.deepEqual([...encodeEntryHeader({ kind: 'ofs-delta', size: 5, distance: 16512 })], [0x65, 0x80, 0x80, 0x00]);
    for (const distance of [1, 127, 128, 129, 16511, 16512, 16513, 2 ** 21, 2 ** 28 + 77, 2 ** 40 + 1]) {
      const bytes = encodeEntryHeader({ kind: 'ofs-delta', size: 1000, distance });
      const entryOffset = distance + 12;
      assert.deepEqual(parseEntryHeader(bytes, 0, entryOffset), {
        kind: 'ofs-delta',
        size: 1000,
        headerLength: bytes.length,
        baseOffset: 12,
      });
    }
  });

  test('ref-delta headers carry the 20-byte base id', () => {
    const baseOid = '0123456789abcdef0123456789abcdef01234567';
    const bytes = encodeEntryHeader({ kind: 'ref-delta', size: 70, baseOid });
    assert.equal(bytes.length, 2 + 20);
    assert.deepEqual(parseEntryHeader(bytes, 0, 12), { kind: 'ref-delta', size: 70, headerLength: 22, baseOid });
  });

  test('malformed headers name the entry offset', () => {
    const truncated = [
      Buffer.from([0xb0]),
      Buffer.from([0x65]),
      Buffer.from([0x65, 0x80]),
      encodeEntryHeader({ kind: 'ref-delta', size: 1, baseOid: 'a'.repeat(40) }).subarray(0, 15),
    ];
    for (const bytes of truncated) assert.throws(() => parseEntryHeader(bytes, 0, 4242), /truncated entry header at offset 4242/);
    assert.throws(() => parseEntryHeader(Buffer.from([0x05]), 0, 77), /invalid entry type 0 at offset 77/);
    assert.throws(() => parseEntryHeader(Buffer.from([0x55]), 0, 77), /invalid entry type 5 at offset 77/);
    assert.throws(() => parseEntryHeader(Buffer.from([0x65, 0x40]), 0, 70), /points outside the pack/);
    assert.throws(() => parseEntryHeader(Buffer.from([0xb0, ...new Array(12).fill(0xff), 0]), 0, 12), /varint too long/);
    assert.throws(() => parseEntryHeader(Buffer.from([0x65, ...new Array(12).fill(0xff), 0]), 0, 12), PackFormatError);
  });

  test('pack header', () => {
    const header = encodePackHeader(849014);
    assert.equal(header.toString('hex'), '5041434b00000002000cf476');
    assert.deepEqual(parsePackHeader(header), { version: 2, objectCount: 849014 });
    assert.throws(() => parsePackHeader(header.subarray(0, 11)), /truncated/);
    assert.throws(() => parsePackHeader(Buffer.from('PACX00000000')), /signature/);
    const v4 = Buffer.from(header);
    v4[7] = 4;
    assert.throws(() => parsePackHeader(v4), /unsupported pack version 4/);
  });
});
