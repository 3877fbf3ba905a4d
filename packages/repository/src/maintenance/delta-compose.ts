import { encodeDeltaCopy, encodeDeltaSize, MAX_DELTA_COPY, PackFormatError } from '@gitfleet/git-format';
import { lastAtOrBefore } from '../sorted-numbers.js';

const MAX_INSERT = 0x7f;

/** A delta's opcodes as target ranges: where each starts, how long, and where its bytes come from. */
interface DeltaRanges {
  baseSize: number;
  targetSize: number;
  targetStarts: number[];
  /** For a copy, the base offset; for an insert, -(offset of its bytes in the delta) - 1. */
  sources: number[];
  delta: Buffer;
}

/**
 * The delta from A to C, given `inner` (A to B) and `outer` (B to C), without B or C: each
 * copy of `outer` is mapped through the opcodes of `inner` that produced those bytes of B.
 * This keeps as a delta an object whose stored base is left out of a new pack while the base's
 * own base is in it, which is what a pack of the unreachable objects of a repository meets.
 */
export function composeDeltas(inner: Buffer, outer: Buffer): Buffer {
  const through = deltaRanges(inner);
  const out = new DeltaBuilder();
  const { value: baseSize, next: afterBase } = readSize(outer, 0);
  if (baseSize !== through.targetSize) {
    throw new PackFormatError(
      `composing deltas: the outer delta expects a base of ${baseSize} bytes, the inner one makes ${through.targetSize}`,
    );
  }
  const { value: targetSize, next: opsAt } = readSize(outer, afterBase);
  out.header(through.baseSize, targetSize);
  forEachOp(outer, opsAt, (source, length) => {
    if (source < 0) out.insert(outer, -source - 1, length);
    else mapCopy(through, source, length, out);
  });
  return out.finish();
}

/** Emits, for bytes [offset, offset + length) of B, the opcodes of `through` that made them. */
function mapCopy(through: DeltaRanges, offset: number, length: number, out: DeltaBuilder): void {
  const { targetStarts, sources } = through;
  let i = lastAtOrBefore(targetStarts, offset);
  let at = offset;
  const end = offset + length;
  while (at < end) {
    const rangeEnd = i + 1 < targetStarts.length ? targetStarts[i + 1] : through.targetSize;
    const piece = Math.min(end, rangeEnd) - at;
    const source = sources[i];
    const into = at - targetStarts[i];
    if (source >= 0) out.copy(source + into, piece);
    else out.insert(through.delta, -source - 1 + into, piece);
    at += piece;
    i++;
  }
}

function deltaRanges(delta: Buffer): DeltaRanges {
  const { value: baseSize, next } = readSize(delta, 0);
  const { value: targetSize, next: opsAt } = readSize(delta, next);
  const targetStarts: number[] = [];
  const sources: number[] = [];
  let produced = 0;
  forEachOp(delta, opsAt, (source, length) => {
    targetStarts.push(produced);
    sources.push(source);
    produced += length;
  });
  if (produced !== targetSize) throw new PackFormatError(`composing deltas: a delta makes ${produced} bytes, it declares ${targetSize}`);
  return { baseSize, targetSize, targetStarts, sources, delta };
}

/** Calls `visit` for each opcode: a copy's base offset, or -(offset of an insert's bytes) - 1, and its length. */
function forEachOp(delta: Buffer, at: number, visit: (source: number, length: number) => void): void {
  let p = at;
  while (p < delta.length) {
    const op = delta[p++];
    if (op & 0x80) {
      let offset = 0;
      let length = 0;
      for (let bit = 0; bit < 4; bit++) if (op & (1 << bit)) offset += delta[p++] * 2 ** (8 * bit);
      for (let bit = 0; bit < 3; bit++) if (op & (0x10 << bit)) length |= delta[p++] << (8 * bit);
      if (p > delta.length) throw new PackFormatError('composing deltas: a delta ends inside a copy opcode');
      visit(offset, length === 0 ? MAX_DELTA_COPY : length);
    } else if (op !== 0) {
      if (p + op > delta.length) throw new PackFormatError('composing deltas: a delta ends inside an insert');
      visit(-p - 1, op);
      p += op;
    } else {
      throw new PackFormatError(`composing deltas: reserved opcode 0 at delta byte ${p - 1}`);
    }
  }
}

function readSize(delta: Buffer, at: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  let p = at;
  let byte: number;
  do {
    if (p >= delta.length || shift > 49) throw new PackFormatError('composing deltas: malformed delta header');
    byte = delta[p++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return { value, next: p };
}

/** Writes delta opcodes, joining copies that continue each other and inserts that follow each other. */
class DeltaBuilder {
  private readonly chunks: Buffer[] = [];
  private ops: number[] = [];
  private copyFrom = -1;
  private copyLength = 0;
  private inserts: Buffer[] = [];
  private insertLength = 0;

  header(baseSize: number, targetSize: number): void {
    encodeDeltaSize(baseSize, this.ops);
    encodeDeltaSize(targetSize, this.ops);
  }

  copy(offset: number, length: number): void {
    this.flushInsert();
    if (this.copyFrom >= 0 && this.copyFrom + this.copyLength === offset) this.copyLength += length;
    else {
      this.flushCopy();
      this.copyFrom = offset;
      this.copyLength = length;
    }
  }

  insert(from: Buffer, at: number, length: number): void {
    this.flushCopy();
    this.inserts.push(from.subarray(at, at + length));
    this.insertLength += length;
  }

  finish(): Buffer {
    this.flushCopy();
    this.flushInsert();
    this.flushOps();
    return Buffer.concat(this.chunks);
  }

  private flushCopy(): void {
    for (let at = 0; at < this.copyLength; at += MAX_DELTA_COPY) {
      encodeDeltaCopy(this.copyFrom + at, Math.min(MAX_DELTA_COPY, this.copyLength - at), this.ops);
    }
    this.copyFrom = -1;
    this.copyLength = 0;
    if (this.ops.length >= 65536) this.flushOps();
  }

  private flushInsert(): void {
    if (this.insertLength === 0) return;
    const bytes = this.inserts.length === 1 ? this.inserts[0] : Buffer.concat(this.inserts, this.insertLength);
    this.flushOps();
    for (let at = 0; at < bytes.length; at += MAX_INSERT) {
      const piece = bytes.subarray(at, Math.min(bytes.length, at + MAX_INSERT));
      this.chunks.push(Buffer.from([piece.length]), piece);
    }
    this.inserts = [];
    this.insertLength = 0;
  }

  private flushOps(): void {
    if (this.ops.length > 0) this.chunks.push(Buffer.from(this.ops));
    this.ops = [];
  }
}
