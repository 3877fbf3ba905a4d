import { constants } from 'node:buffer';
import { PackFormatError } from './entry.js';

/** A copy opcode never produces more than this (a size field of 0 means 0x10000). */
export const MAX_DELTA_COPY = 0x10000;
const MAX_INSERT = 0x7f;

function readSize(delta: Uint8Array, at: number, what: string): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  let p = at;
  let byte: number;
  do {
    if (p >= delta.length) throw new PackFormatError(`delta truncated in its ${what} size`);
    if (shift > 49) throw new PackFormatError(`delta ${what} size varint too long`);
    byte = delta[p++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return { value, next: p };
}

/** The base and result sizes a delta declares, read from its header without applying it. */
export function deltaSizes(delta: Uint8Array): { base: number; result: number } {
  const base = readSize(delta, 0, 'base');
  return { base: base.value, result: readSize(delta, base.next, 'result').value };
}

/** The target size a delta declares, read from its header without applying it. */
export function deltaTargetSize(delta: Uint8Array): number {
  return deltaSizes(delta).result;
}

/**
 * Results up to this size, or up to RATIO_CHECKED_FIRST bytes per delta byte, are allocated as
 * declared; a larger claim has its opcodes walked first, so that a delta of a few kilobytes
 * claiming hundreds of megabytes is refused before they are allocated. Real deltas that make
 * that much from so little are a few large copies, whose walk costs nothing.
 */
const RESULT_CHECKED_FIRST = 1 << 20;
const RATIO_CHECKED_FIRST = 64;

/** Applies a git delta to `base`; PackFormatError when the delta is malformed or sizes disagree. */
export function applyDelta(base: Uint8Array, delta: Uint8Array): Buffer {
  const baseSize = readSize(delta, 0, 'base');
  if (baseSize.value !== base.length) {
    throw new PackFormatError(`delta expects a base of ${baseSize.value} bytes, the base has ${base.length}`);
  }
  const resultSize = readSize(delta, baseSize.next, 'result');
  const size = resultSize.value;
  const opcodeBytes = delta.length - resultSize.next;
  // Each opcode byte yields at most MAX_DELTA_COPY bytes: a larger claim is a lie, refuse it before allocating.
  if (size > opcodeBytes * MAX_DELTA_COPY || size > constants.MAX_LENGTH) {
    throw new PackFormatError(`delta declares a result of ${size} bytes it cannot produce`);
  }
  if (size > RESULT_CHECKED_FIRST && size > opcodeBytes * RATIO_CHECKED_FIRST) runOpcodes(base, delta, resultSize.next, size);
  const out = Buffer.allocUnsafe(size);
  runOpcodes(base, delta, resultSize.next, size, out);
  return out;
}

/**
 * Runs the opcodes from delta[p], writing the result into `out`, or, without `out`, only checking
 * them: PackFormatError unless they make exactly `size` bytes.
 */
function runOpcodes(base: Uint8Array, delta: Uint8Array, p: number, size: number, out?: Buffer): void {
  let o = 0;
  while (p < delta.length) {
    const op = delta[p++];
    if (op & 0x80) {
      let offset = 0;
      let length = 0;
      // The low 4 bits select which offset bytes follow, the next 3 which length bytes.
      for (let bit = 0; bit < 4; bit++) {
        if (op & (1 << bit)) {
          if (p >= delta.length) throw new PackFormatError(`delta truncated in a copy opcode at delta byte ${p}`);
          offset += delta[p++] * 2 ** (8 * bit);
        }
      }
      for (let bit = 0; bit < 3; bit++) {
        if (op & (0x10 << bit)) {
          if (p >= delta.length) throw new PackFormatError(`delta truncated in a copy opcode at delta byte ${p}`);
          length |= delta[p++] << (8 * bit);
        }
      }
      if (length === 0) length = MAX_DELTA_COPY;
      if (offset + length > base.length) {
        throw new PackFormatError(`delta copies base bytes ${offset}..${offset + length} past the base's ${base.length}`);
      }
      if (o + length > size) throw new PackFormatError(`delta writes past its declared result size ${size}`);
      if (out) copyBytes(base, offset, out, o, length);
      o += length;
    } else if (op !== 0) {
      if (p + op > delta.length) throw new PackFormatError(`delta truncated in an insert of ${op} bytes at delta byte ${p}`);
      if (o + op > size) throw new PackFormatError(`delta writes past its declared result size ${size}`);
      if (out) copyBytes(delta, p, out, o, op);
      p += op;
      o += op;
    } else {
      throw new PackFormatError(`delta has the reserved opcode 0 at delta byte ${p - 1}`);
    }
  }
  if (o !== size) throw new PackFormatError(`delta produced ${o} bytes, it declares ${size}`);
}

/** Short copies dominate real deltas; a plain loop beats creating a subarray view for each. */
function copyBytes(from: Uint8Array, fromAt: number, to: Uint8Array, toAt: number, length: number): void {
  if (length > 64) {
    to.set(from.subarray(fromAt, fromAt + length), toAt);
    return;
  }
  for (let k = 0; k < length; k++) to[toAt + k] = from[fromAt + k];
}

/** Appends a delta header size (base or result): 7 bits a byte, least significant first. */
export function encodeDeltaSize(value: number, into: number[]): void {
  let v = value;
  while (v >= 0x80) {
    into.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  into.push(v);
}

/**
 * Appends one copy opcode: `length` (1 to 0xffffff; MAX_DELTA_COPY is written with no size bytes)
 * bytes from `offset` of the base, with only the non-zero bytes of both written (the opcode's low
 * bits say which are present).
 */
export function encodeDeltaCopy(offset: number, length: number, into: number[]): void {
  const args: number[] = [];
  let op = 0x80;
  for (let bit = 0; bit < 4; bit++) {
    const byte = Math.floor(offset / 2 ** (8 * bit)) & 0xff;
    if (byte !== 0) {
      op |= 1 << bit;
      args.push(byte);
    }
  }
  const sizeField = length === MAX_DELTA_COPY ? 0 : length;
  for (let bit = 0; bit < 3; bit++) {
    const byte = (sizeField >> (8 * bit)) & 0xff;
    if (byte !== 0) {
      op |= 0x10 << bit;
      args.push(byte);
    }
  }
  into.push(op, ...args);
}

/** Matches shorter than a block are not worth a copy opcode (up to 8 bytes of its own). */
const BLOCK = 16;
const HASH_MULTIPLIER = 0x01000193;

function blockHash(data: Uint8Array, at: number): number {
  let h = 0;
  for (let i = at; i < at + BLOCK; i++) h = (Math.imul(h, HASH_MULTIPLIER) + data[i]) | 0;
  return h;
}

/**
 * A delta that rebuilds `target` from `base` (used only where no stored delta can be reused).
 * The base is indexed by the hash of each aligned 16-byte block; the target is scanned with a
 * rolling hash of the same window, and every verified hit is extended both ways into a copy.
 */
export function createDelta(base: Uint8Array, target: Uint8Array): Buffer {
  const out: number[] = [];
  encodeDeltaSize(base.length, out);
  encodeDeltaSize(target.length, out);
  const chunks: Buffer[] = [];
  const flushOut = (): void => {
    if (out.length > 0) chunks.push(Buffer.from(out));
    out.length = 0;
  };

  const blocks = new Map<number, number>();
  for (let at = 0; at + BLOCK <= base.length; at += BLOCK) {
    const h = blockHash(base, at);
    if (!blocks.has(h)) blocks.set(h, at);
  }

  let pendingFrom = 0;
  const emitInsert = (end: number): void => {
    for (let from = pendingFrom; from < end; from += MAX_INSERT) {
      const n = Math.min(MAX_INSERT, end - from);
      out.push(n);
      for (let i = from; i < from + n; i++) out.push(target[i]);
      if (out.length > 1 << 16) flushOut();
    }
  };
  const emitCopy = (offset: number, length: number): void => {
    for (let done = 0; done < length; done += MAX_DELTA_COPY) encodeDeltaCopy(offset + done, Math.min(MAX_DELTA_COPY, length - done), out);
  };

  // Rolling hash removes the byte leaving the window by subtracting it times multiplier^BLOCK-1.
  let topPower = 1;
  for (let i = 1; i < BLOCK; i++) topPower = Math.imul(topPower, HASH_MULTIPLIER);

  let i = 0;
  let h = target.length >= BLOCK ? blockHash(target, 0) : 0;
  while (i + BLOCK <= target.length) {
    const candidate = blocks.get(h);
    if (candidate !== undefined && equalRange(base, candidate, target, i, BLOCK)) {
      let start = i;
      let baseStart = candidate;
      while (start > pendingFrom && baseStart > 0 && target[start - 1] === base[baseStart - 1]) {
        start--;
        baseStart--;
      }
      let end = i + BLOCK;
      let baseEnd = candidate + BLOCK;
      while (end < target.length && baseEnd < base.length && target[end] === base[baseEnd]) {
        end++;
        baseEnd++;
      }
      emitInsert(start);
      emitCopy(baseStart, end - start);
      pendingFrom = end;
      i = end;
      if (i + BLOCK <= target.length) h = blockHash(target, i);
      continue;
    }
    if (i + BLOCK < target.length) {
      h = (Math.imul(h - Math.imul(target[i], topPower), HASH_MULTIPLIER) + target[i + BLOCK]) | 0;
    }
    i++;
  }
  emitInsert(target.length);
  flushOut();
  return Buffer.concat(chunks);
}

function equalRange(a: Uint8Array, aAt: number, b: Uint8Array, bAt: number, length: number): boolean {
  for (let k = 0; k < length; k++) if (a[aAt + k] !== b[bAt + k]) return false;
  return true;
}
