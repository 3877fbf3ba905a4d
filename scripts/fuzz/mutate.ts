/**
 * The classic byte-level mutations of coverage-guided fuzzers (AFL, libFuzzer): flips,
 * interesting integers, range insertion, deletion and duplication, splicing two inputs,
 * and tokens from the target's dictionary. A few are stacked per input.
 */
import { seededRandom } from '../../packages/storage/src/index.js';

/** Draws from seededRandom (mulberry32): fast, and reproducible from a seed (a CI run can be replayed). */
export class Random {
  private readonly next: () => number;

  constructor(seed: number) {
    this.next = seededRandom(seed);
  }

  /** An integer in [0, bound). */
  below(bound: number): number {
    return Math.floor(this.next() * 0x1_0000_0000) % Math.max(1, bound);
  }

  chance(oneIn: number): boolean {
    return this.below(oneIn) === 0;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }
}

const INTERESTING_8 = [0, 1, 0x7f, 0x80, 0xff, 0x10, 0x20, 0x40, 0x64];
const INTERESTING_16 = [0, 0x80, 0xff, 0x100, 0x3e8, 0x400, 0x7fff, 0x8000, 0xffff];
const INTERESTING_32 = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x10000, 0x1000000, 0xfffffffe];

export interface MutationContext {
  random: Random;
  /** Other corpus entries, for splicing. */
  corpus: readonly Buffer[];
  dictionary: readonly Buffer[];
  maxLength: number;
}

type Mutation = (data: Buffer, context: MutationContext) => Buffer;

const MUTATIONS: Mutation[] = [
  flipBit,
  setRandomByte,
  addToByte,
  setInteresting8,
  setInteresting16,
  setInteresting32,
  insertRandomBytes,
  deleteRange,
  duplicateRange,
  copyRangeWithin,
  spliceWithOther,
  insertToken,
  overwriteWithToken,
  changeAsciiDigit,
  truncate,
];

/** A mutant of `parent`: one to eight stacked mutations, at most `maxLength` bytes. */
export function mutate(parent: Buffer, context: MutationContext): Buffer {
  let data = parent;
  const rounds = 1 << context.random.below(4);
  for (let i = 0; i < rounds; i++) data = context.random.pick(MUTATIONS)(data, context);
  return data.length > context.maxLength ? data.subarray(0, context.maxLength) : data;
}

function copyOf(data: Buffer): Buffer {
  return Buffer.from(data);
}

function flipBit(data: Buffer, { random }: MutationContext): Buffer {
  if (data.length === 0) return Buffer.from([random.below(256)]);
  const out = copyOf(data);
  out[random.below(out.length)] ^= 1 << random.below(8);
  return out;
}

function setRandomByte(data: Buffer, { random }: MutationContext): Buffer {
  if (data.length === 0) return Buffer.from([random.below(256)]);
  const out = copyOf(data);
  out[random.below(out.length)] = random.below(256);
  return out;
}

function addToByte(data: Buffer, { random }: MutationContext): Buffer {
  if (data.length === 0) return data;
  const out = copyOf(data);
  const at = random.below(out.length);
  out[at] = (out[at] + random.below(35) - 17) & 0xff;
  return out;
}

function setInteresting8(data: Buffer, { random }: MutationContext): Buffer {
  if (data.length === 0) return Buffer.from([random.pick(INTERESTING_8)]);
  const out = copyOf(data);
  out[random.below(out.length)] = random.pick(INTERESTING_8);
  return out;
}

function setInteresting16(data: Buffer, context: MutationContext): Buffer {
  return setInterestingWide(data, context, 2, INTERESTING_16);
}

function setInteresting32(data: Buffer, context: MutationContext): Buffer {
  return setInterestingWide(data, context, 4, INTERESTING_32);
}

/** One of `values` written as a `width`-byte integer, big- or little-endian, at a random place. */
function setInterestingWide(data: Buffer, { random }: MutationContext, width: 2 | 4, values: readonly number[]): Buffer {
  if (data.length < width) return data;
  const out = copyOf(data);
  const at = random.below(out.length - width + 1);
  if (random.chance(2)) out.writeUIntBE(random.pick(values), at, width);
  else out.writeUIntLE(random.pick(values), at, width);
  return out;
}

function insertRandomBytes(data: Buffer, { random }: MutationContext): Buffer {
  const at = random.below(data.length + 1);
  const inserted = Buffer.alloc(1 + random.below(random.chance(8) ? 128 : 8));
  const fill = random.chance(2) ? random.below(256) : -1;
  for (let i = 0; i < inserted.length; i++) inserted[i] = fill >= 0 ? fill : random.below(256);
  return Buffer.concat([data.subarray(0, at), inserted, data.subarray(at)]);
}

function deleteRange(data: Buffer, { random }: MutationContext): Buffer {
  if (data.length < 2) return data;
  const at = random.below(data.length);
  const length = 1 + random.below(Math.min(data.length - at, random.chance(4) ? data.length : 16));
  return Buffer.concat([data.subarray(0, at), data.subarray(at + length)]);
}

function duplicateRange(data: Buffer, { random }: MutationContext): Buffer {
  if (data.length === 0) return data;
  const from = random.below(data.length);
  const length = 1 + random.below(Math.min(data.length - from, 64));
  const to = random.below(data.length + 1);
  const range = data.subarray(from, from + length);
  const copies = random.chance(8) ? 1 + random.below(16) : 1;
  return Buffer.concat([data.subarray(0, to), ...Array<Buffer>(copies).fill(range), data.subarray(to)]);
}

function copyRangeWithin(data: Buffer, { random }: MutationContext): Buffer {
  if (data.length < 2) return data;
  const from = random.below(data.length);
  const to = random.below(data.length);
  const length = 1 + random.below(Math.min(data.length - Math.max(from, to), 32));
  const out = copyOf(data);
  data.copy(out, to, from, from + length);
  return out;
}

function spliceWithOther(data: Buffer, { random, corpus }: MutationContext): Buffer {
  if (corpus.length === 0) return data;
  const other = random.pick(corpus);
  const cut = random.below(data.length + 1);
  const otherCut = random.below(other.length + 1);
  return Buffer.concat([data.subarray(0, cut), other.subarray(otherCut)]);
}

function insertToken(data: Buffer, { random, dictionary }: MutationContext): Buffer {
  if (dictionary.length === 0) return data;
  const at = random.below(data.length + 1);
  return Buffer.concat([data.subarray(0, at), random.pick(dictionary), data.subarray(at)]);
}

function overwriteWithToken(data: Buffer, { random, dictionary }: MutationContext): Buffer {
  if (dictionary.length === 0) return data;
  const token = random.pick(dictionary);
  if (data.length < token.length) return Buffer.concat([data, token]);
  const out = copyOf(data);
  token.copy(out, random.below(data.length - token.length + 1));
  return out;
}

/** Text formats spell their numbers in ASCII (pkt-line lengths, timestamps, modes): nudge one digit. */
function changeAsciiDigit(data: Buffer, { random }: MutationContext): Buffer {
  const digits: number[] = [];
  for (let i = 0; i < data.length && digits.length < 64; i++) if (data[i] >= 0x30 && data[i] <= 0x39) digits.push(i);
  if (digits.length === 0) return data;
  const out = copyOf(data);
  out[random.pick(digits)] = random.chance(4) ? random.pick([0x61, 0x66, 0x46]) : 0x30 + random.below(10);
  return out;
}

function truncate(data: Buffer, { random }: MutationContext): Buffer {
  return data.length === 0 ? data : data.subarray(0, random.below(data.length));
}
