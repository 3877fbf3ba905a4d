/**
 * Packs of a few kilobytes that expand enormously, built in memory: a blob and ofs-deltas
 * made of repeated copy instructions (one byte copies 64 KiB of the base), or long chains.
 */
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import { encodeDeltaCopy, encodeDeltaSize, encodeEntryHeader, encodePackHeader, MAX_DELTA_COPY } from '@gitfleet/git-format';

type Entry = { kind: 'blob'; data: Buffer } | { kind: 'delta'; base: number; delta: Buffer };

/** A pack whose deltas name their base by entry number (written as ofs-deltas). */
function ofsDeltaPack(entries: Entry[]): Buffer {
  const chunks: Buffer[] = [encodePackHeader(entries.length)];
  const offsets: number[] = [];
  let offset = 12;
  for (const entry of entries) {
    offsets.push(offset);
    const body = entry.kind === 'blob' ? entry.data : entry.delta;
    const header =
      entry.kind === 'blob'
        ? encodeEntryHeader({ kind: 'object', type: 'blob', size: body.length })
        : encodeEntryHeader({ kind: 'ofs-delta', size: body.length, distance: offset - offsets[entry.base] });
    const deflated = zlib.deflateSync(body, { level: 9 });
    chunks.push(header, deflated);
    offset += header.length + deflated.length;
  }
  const body = Buffer.concat(chunks);
  return Buffer.concat([body, createHash('sha1').update(body).digest()]);
}

/** Copy `length` bytes from offset 0 of the base. */
function copyFromStart(length: number): number[] {
  const ops: number[] = [];
  encodeDeltaCopy(0, length, ops);
  return ops;
}

/** A delta header: base size, then result size. */
function sizes(base: number, result: number): number[] {
  const ops: number[] = [];
  encodeDeltaSize(base, ops);
  encodeDeltaSize(result, ops);
  return ops;
}

/** An insert instruction of up to 127 bytes. */
function insert(bytes: Buffer): number[] {
  return [bytes.length, ...bytes];
}

export const BOMB_BASE_BYTES = MAX_DELTA_COPY;

/**
 * A 64 KiB blob and `deltas` deltas on it, each `copies` × 64 KiB (plus 4 distinct bytes): the
 * pack is a few KB, it expands to about deltas × copies × 64 KiB.
 */
export function starDeltaBomb(deltas: number, copies: number): { pack: Buffer; expandsTo: number } {
  const entries: Entry[] = [{ kind: 'blob', data: Buffer.alloc(BOMB_BASE_BYTES, 'a') }];
  const target = copies * MAX_DELTA_COPY + 4;
  for (let k = 0; k < deltas; k++) {
    const unique = Buffer.alloc(4);
    unique.writeUInt32BE(k);
    const ops = sizes(BOMB_BASE_BYTES, target);
    for (let c = 0; c < copies; c++) ops.push(...copyFromStart(MAX_DELTA_COPY));
    ops.push(...insert(unique));
    entries.push({ kind: 'delta', base: 0, delta: Buffer.from(ops) });
  }
  return { pack: ofsDeltaPack(entries), expandsTo: BOMB_BASE_BYTES + deltas * target };
}

/** A 100-byte blob and a chain of `depth` deltas, each its predecessor plus 4 bytes. */
export function deltaChain(depth: number): Buffer {
  let size = 100;
  const entries: Entry[] = [{ kind: 'blob', data: Buffer.alloc(size, 'b') }];
  for (let k = 1; k <= depth; k++) {
    const unique = Buffer.alloc(4);
    unique.writeUInt32BE(k);
    const ops = [...sizes(size, size + 4), ...copyFromStart(size), ...insert(unique)];
    entries.push({ kind: 'delta', base: k - 1, delta: Buffer.from(ops) });
    size += 4;
  }
  return ofsDeltaPack(entries);
}
