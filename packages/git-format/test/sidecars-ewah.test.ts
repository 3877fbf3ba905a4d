import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Bitmap } from '../src/sidecars/bitmap.js';
import { CorruptSidecarError } from '../src/sidecars/errors.js';
import { decodeEwah, encodeEwah } from '../src/sidecars/ewah.js';

/** A bound on decoded sizes larger than any bitmap here. */
const ANY_SIZE = 2 ** 24;

/** Deterministic bit patterns: sparse, dense, long runs of zeros and of ones, and mixtures. */
function randomBits(seed: number, size: number): Set<number> {
  let state = seed;
  const next = (): number => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const bits = new Set<number>();
  let at = 0;
  while (at < size) {
    const kind = next();
    const length = Math.floor(next() * 500) + 1;
    for (let i = at; i < Math.min(size, at + length); i++) {
      if (kind < 0.3 || (kind < 0.6 && next() < 0.5) || (kind < 0.65 && next() < 0.02)) bits.add(i);
    }
    at += length;
  }
  return bits;
}

function sorted(bits: Iterable<number>): number[] {
  return [...bits].sort((a, b) => a - b);
}

describe('Bitmap', () => {
  test('set, get, clear, count, setBits and bitLength agree with a Set', () => {
    const bits = randomBits(1, 5000);
    const bitmap = Bitmap.of(bits);
    assert.equal(bitmap.count(), bits.size);
    assert.deepEqual([...bitmap.setBits()], sorted(bits));
    for (let i = 0; i < 5100; i++) assert.equal(bitmap.get(i), bits.has(i));
    assert.equal(bitmap.bitLength(), Math.max(...bits) + 1);
    bitmap.clear(Math.max(...bits));
    assert.equal(bitmap.count(), bits.size - 1);
    assert.equal(new Bitmap().bitLength(), 0);
    assert.throws(() => bitmap.set(-1), RangeError);
    assert.throws(() => bitmap.set(1.5), RangeError);
    bitmap.set(2 ** 20);
    assert.ok(bitmap.get(2 ** 20));
  });

  test('or, and, andNot and xor agree with set operations, across different lengths', () => {
    const a = randomBits(2, 3000);
    const b = randomBits(3, 7000);
    const check = (result: Bitmap, expected: (bit: number) => boolean): void => {
      assert.deepEqual([...result.setBits()], sorted([...new Set([...a, ...b])].filter(expected)));
    };
    for (const [left, right] of [
      [a, b],
      [b, a],
    ]) {
      const inLeft = (bit: number): boolean => left.has(bit);
      const inRight = (bit: number): boolean => right.has(bit);
      check(Bitmap.of(left).or(Bitmap.of(right)), (bit) => inLeft(bit) || inRight(bit));
      check(Bitmap.of(left).and(Bitmap.of(right)), (bit) => inLeft(bit) && inRight(bit));
      check(Bitmap.of(left).andNot(Bitmap.of(right)), (bit) => inLeft(bit) && !inRight(bit));
      check(Bitmap.of(left).xor(Bitmap.of(right)), (bit) => inLeft(bit) !== inRight(bit));
    }
  });

  test('equals ignores trailing zero words; clone is independent', () => {
    const small = Bitmap.of([1, 70]);
    const padded = Bitmap.withCapacity(10_000);
    padded.set(1);
    padded.set(70);
    assert.ok(small.equals(padded) && padded.equals(small));
    const copy = small.clone();
    copy.set(2);
    assert.ok(!small.get(2));
    assert.ok(!small.equals(copy));
  });

  test('fill sets exactly the first bits, at word boundaries and between them, keeping bits set before', () => {
    for (const count of [0, 1, 31, 32, 33, 64, 100]) {
      const bitmap = Bitmap.of([150]);
      bitmap.fill(count);
      assert.equal(bitmap.count(), count + 1, `fill(${count})`);
      assert.equal(bitmap.get(count), false, `bit ${count} after fill(${count})`);
      if (count > 0) assert.equal(bitmap.get(count - 1), true);
      assert.ok(bitmap.get(150));
    }
  });
});

describe('EWAH', () => {
  test('round trips bit patterns of every shape', () => {
    const patterns: Bitmap[] = [
      new Bitmap(),
      Bitmap.of([0]),
      Bitmap.of([63]),
      Bitmap.of([64]),
      Bitmap.of(Array.from({ length: 64 * 40 }, (_, i) => i)),
      Bitmap.of([5, 64 * 1000 + 3]),
      ...[4, 5, 6, 7].map((seed) => Bitmap.of(randomBits(seed, 20_000))),
    ];
    for (const bitmap of patterns) {
      const encoded = encodeEwah(bitmap);
      const decoded = decodeEwah(encoded, 0, ANY_SIZE);
      assert.ok(decoded.bitmap.equals(bitmap));
      assert.equal(decoded.byteLength, encoded.length);
      assert.equal(decoded.bitSize, 64 * Math.ceil(bitmap.bitLength() / 64));
    }
  });

  test('pads with zero words up to a given bit size, as git records type bitmaps and XORed entries', () => {
    const encoded = encodeEwah(Bitmap.of([3]), 500);
    const decoded = decodeEwah(encoded, 0, ANY_SIZE);
    assert.equal(decoded.bitSize, 500);
    assert.deepEqual([...decoded.bitmap.setBits()], [3]);
    // An RLW and the literal word, then an RLW for the seven zero words up to bit 500.
    assert.equal(encoded.readUInt32BE(4), 3);
    assert.equal(decodeEwah(encodeEwah(Bitmap.of([3]), 4), 0, ANY_SIZE).bitSize, 4);
    assert.throws(() => encodeEwah(Bitmap.of([3]), 3), RangeError);
  });

  test('compresses runs: a million ones and a lone far bit take a few words', () => {
    const ones = Bitmap.withCapacity(2 ** 20);
    for (let i = 0; i < 2 ** 20; i++) ones.set(i);
    assert.equal(encodeEwah(ones).length, 8 + 8 + 4);
    assert.equal(encodeEwah(Bitmap.of([10_000_000])).length, 8 + 16 + 4);
  });

  test('decodes at an offset inside a larger buffer and reports where it ends', () => {
    const encoded = encodeEwah(Bitmap.of([3, 200]));
    const framed = Buffer.concat([Buffer.from('prefix'), encoded, Buffer.from('suffix')]);
    const decoded = decodeEwah(framed, 6, ANY_SIZE);
    assert.deepEqual([...decoded.bitmap.setBits()], [3, 200]);
    assert.equal(decoded.byteLength, encoded.length);
  });

  /** A serialized EWAH from its parts: bit size, 64-bit words as [high, low] pairs, last RLW position. */
  function ewah(bitSize: number, words: [number, number][], lastRlw = 0): Buffer {
    const out = Buffer.alloc(12 + 8 * words.length);
    out.writeUInt32BE(bitSize, 0);
    out.writeUInt32BE(words.length, 4);
    words.forEach(([high, low], i) => {
      out.writeUInt32BE(high, 8 + 8 * i);
      out.writeUInt32BE(low, 12 + 8 * i);
    });
    out.writeUInt32BE(lastRlw, 8 + 8 * words.length);
    return out;
  }

  test('decodes what git writes: a run of ones, a run of zeros and a literal', () => {
    // RLW: run of ones (bit 0) over 2 words, then 1 literal word; RLW: 1 zero word, 1 literal.
    const bytes = ewah(
      64 * 5,
      [
        [1 << 1, (2 << 1) | 1],
        [0, 0b101],
        [1 << 1, 1 << 1],
        [0x80000000, 0],
      ],
      2,
    );
    const bits = [...decodeEwah(bytes, 0, ANY_SIZE).bitmap.setBits()];
    assert.deepEqual(bits, [...Array.from({ length: 128 }, (_, i) => i), 128, 130, 64 * 4 + 63]);
  });

  const refusals: [string, Buffer, RegExp, number?][] = [
    ['a truncated header', Buffer.alloc(6), /truncated header/],
    ['words past the end', ewah(64, [[0, 1 << 1]]).subarray(0, 16), /run past the end/],
    ['literal words past the end', ewah(64 * 4, [[3 << 1, 0]]), /literal words past the end/],
    ['runs past the bit size', ewah(64, [[0, (5 << 1) | 1]]), /expands past its bit size/],
    ['a last RLW outside the words', ewah(64, [[0, (1 << 1) | 1]], 7), /last RLW/],
    ['a bit size beyond the indexed objects', ewah(64 * 100, [[0, (1 << 1) | 1]]), /exceeds the 64 objects/, 64],
  ];
  for (const [name, bytes, message, maxBits] of refusals) {
    test(`refuses ${name}`, () => {
      assert.throws(
        () => decodeEwah(bytes, 0, maxBits ?? ANY_SIZE),
        (error: unknown) => error instanceof CorruptSidecarError && message.test(error.message),
      );
    });
  }

  test('a run of 2^32-1 words in a small file does not allocate beyond its declared bit size', () => {
    assert.throws(() => decodeEwah(ewah(64, [[1, 0xfffffffe]]), 0, ANY_SIZE), /expands past its bit size/);
  });
});
