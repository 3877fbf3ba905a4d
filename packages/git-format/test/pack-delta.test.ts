import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { applyDelta, createDelta, deltaTargetSize } from '../src/pack/delta.js';
import { PackFormatError } from '../src/pack/entry.js';
import { git } from '@gitfleet/test-support/git';
import { buildPack, catFile, sha1Object } from '@gitfleet/test-support/packs';
import { tempDir } from '@gitfleet/test-support/temp-dir';

function variants(): { name: string; base: Buffer; target: Buffer }[] {
  const base = randomBytes(200_000);
  const text = Buffer.from(Array.from({ length: 3000 }, (_, i) => `line ${i}\n`).join(''));
  return [
    { name: 'identical', base, target: Buffer.from(base) },
    { name: 'insert in the middle', base, target: Buffer.concat([base.subarray(0, 1000), randomBytes(300), base.subarray(1000)]) },
    { name: 'delete a range', base, target: Buffer.concat([base.subarray(0, 5000), base.subarray(90_000)]) },
    { name: 'blocks swapped', base, target: Buffer.concat([base.subarray(150_000), base.subarray(0, 150_000)]) },
    { name: 'bytes flipped throughout', base, target: Buffer.from(base).map((b, i) => (i % 997 === 0 ? b ^ 1 : b)) as Buffer },
    { name: 'unrelated', base, target: randomBytes(5000) },
    { name: 'empty target', base, target: Buffer.alloc(0) },
    { name: 'empty base', base: Buffer.alloc(0), target: text },
    { name: 'short, under one block', base: Buffer.from('abc'), target: Buffer.from('abcd') },
    { name: 'text edited', base: text, target: Buffer.from(text.toString().replace('line 1500\n', 'line fifteen hundred\n')) },
  ];
}

describe('deltas', () => {
  test('createDelta then applyDelta rebuilds the target, compactly when the inputs share content', () => {
    for (const { name, base, target } of variants()) {
      const delta = createDelta(base, target);
      assert.ok(applyDelta(base, delta).equals(target), name);
      assert.equal(deltaTargetSize(delta), target.length, name);
      if (name === 'identical' || name === 'delete a range' || name === 'blocks swapped' || name === 'text edited') {
        assert.ok(delta.length < target.length / 20, `${name}: delta of ${delta.length} bytes for ${target.length}`);
      }
    }
  });

  test('git accepts our deltas: a pack of ref-deltas from createDelta indexes and reads back in git', (t) => {
    const dir = tempDir(t, 'pack-delta');
    git(dir, ['init', '-q']);
    const entries = variants().slice(0, 4);
    const base = entries[0].base;
    const baseOid = sha1Object('blob', base);
    const pack = buildPack([
      { kind: 'object', type: 'blob', data: base },
      ...entries.slice(1).map((v) => ({ kind: 'ref-delta' as const, baseOid, delta: createDelta(base, v.target) })),
    ]);
    git(dir, ['index-pack', '--stdin'], pack);
    const oids = entries.slice(1).map((v) => sha1Object('blob', v.target));
    const objects = catFile(dir, oids);
    entries.slice(1).forEach((v, i) => assert.ok(objects.get(oids[i])?.data.equals(v.target), v.name));
  });

  test('copy opcodes: offsets and sizes of every byte width, and size 0 meaning 0x10000', () => {
    const base = randomBytes(0x30000);
    // base size 0x30000, result size 0x10000 + 3: copy 0x10000 from 0x20000 (op 0x84, offset byte 2 only), then copy 3 from 0x0102.
    const delta = Buffer.from([0x80, 0x80, 0x0c, 0x83, 0x80, 0x04, 0x84, 0x02, 0x93, 0x02, 0x01, 0x03]);
    const out = applyDelta(base, delta);
    assert.ok(out.equals(Buffer.concat([base.subarray(0x20000, 0x30000), base.subarray(0x102, 0x105)])));
  });

  test('a delta that declares more than its opcodes make is refused before its result is allocated', (t) => {
    // 6 KiB of inserts (48 of 127 bytes) then the reserved opcode 0, claiming 256 MiB, within 64 KiB per delta byte.
    const inserts = Array.from({ length: 48 }, () => [127, ...Array<number>(127).fill(0x5a)]).flat();
    const delta = Buffer.from([0, 0x80, 0x80, 0x80, 0x80, 0x01, ...inserts, 0]);
    const allocated: number[] = [];
    const allocUnsafe = Buffer.allocUnsafe;
    t.mock.method(Buffer, 'allocUnsafe', (size: number) => {
      allocated.push(size);
      return allocUnsafe(size);
    });
    assert.throws(() => applyDelta(Buffer.alloc(0), delta), /reserved opcode 0/);
    assert.deepEqual(allocated, []);
  });

  test('every malformed delta is a PackFormatError', () => {
    const base = Buffer.from('0123456789');
    const cases: [string, number[], RegExp][] = [
      ['empty', [], /truncated in its base size/],
      ['no result size', [10], /truncated in its result size/],
      ['base size mismatch', [11, 1, 1, 0x41], /expects a base of 11 bytes, the base has 10/],
      ['reserved opcode', [10, 1, 0], /reserved opcode 0/],
      ['insert past the end of the delta', [10, 5, 5, 0x41], /truncated in an insert/],
      ['copy past the base', [10, 4, 0x91, 8, 4], /copies base bytes 8\.\.12/],
      ['copy opcode cut short', [10, 4, 0x91, 8], /truncated in a copy opcode/],
      ['result longer than declared', [10, 2, 0x91, 0, 4], /writes past its declared result size 2/],
      ['result shorter than declared', [10, 6, 0x91, 0, 4], /produced 4 bytes, it declares 6/],
      ['declared result impossible for the delta length', [10, 0xff, 0xff, 0xff, 0x7f, 0x91, 0, 4], /cannot produce/],
    ];
    for (const [name, bytes, pattern] of cases) {
      assert.throws(
        () => applyDelta(base, Buffer.from(bytes)),
        (error: Error) => error instanceof PackFormatError && pattern.test(error.message),
        name,
      );
    }
  });
});
