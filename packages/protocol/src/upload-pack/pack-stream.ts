import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { deflate, deflateSync } from 'node:zlib';
import { encodeEntryHeader, encodePackHeader, parseEntryHeader } from '@gitfleet/git-format';
import type { ObjectId, PackEntryHeader } from '@gitfleet/git-format';
import type { ObjectDB } from '@gitfleet/repository';
import { positionOf } from './pack-plan.js';
import type { PackSlice } from './pack-plan.js';
import { SpanCursor } from './span-cursor.js';

const deflateAsync = promisify(deflate);

/** Longest entry header: a 10-byte type/size varint plus a 20-byte ref-delta base id. */
const MAX_ENTRY_HEADER = 32;
/** Entries closer than this share one sequential read; the bytes between are skipped. */
const SPAN_GAP = 128 * 1024;
/** Output is handed on in pieces of about this size. */
const OUTPUT_CHUNK = 256 * 1024;
const ASYNC_DEFLATE_BYTES = 64 * 1024;

export interface PackStreamOptions {
  /** Every object of the pack (the set the slices were planned from). */
  send: ReadonlySet<ObjectId>;
  /** The client understands ofs-deltas. */
  ofsDelta: boolean;
  /** The client completes thin packs: a delta may name a base it has rather than one sent. */
  thin: boolean;
  /** Objects the client is known to have. */
  clientHas: ReadonlySet<ObjectId>;
}

export interface PackStats {
  total: number;
  deltas: number;
  /** Entries copied as stored (header possibly rewritten). */
  reused: number;
  reusedDeltas: number;
}

/**
 * Streams a pack of the planned objects, copying each stored entry's compressed bytes as
 * they are: a delta keeps its stored delta when its base is in this pack (ofs-delta to
 * where the base landed, or ref-delta) or, for a thin pack, on the client. Only an entry
 * whose base is neither is inflated, resolved and deflated again. Memory stays at a few
 * stream chunks plus one output piece, whatever the pack's size.
 */
export async function* streamPack(
  objects: ObjectDB,
  slices: readonly PackSlice[],
  options: PackStreamOptions,
  stats: PackStats,
): AsyncGenerator<Buffer> {
  const out = new PackOutput();
  out.write(encodePackHeader(options.send.size));
  for (const slice of slices) {
    const { offsets, index } = slice;
    let k = 0;
    while (k < offsets.length) {
      let last = k;
      while (last + 1 < offsets.length && offsets[last + 1] - index.entryEnd(offsets[last]) <= SPAN_GAP) last++;
      const spanStart = offsets[k];
      const spanEnd = index.entryEnd(offsets[last]);
      const describe = `pack ${slice.pack}`;
      const cursor = new SpanCursor(await objects.streamPack(slice.pack, spanStart, spanEnd), spanStart, describe);
      try {
        for (; k <= last; k++) {
          yield* writeEntry(objects, slices, slice, k, cursor, options, stats, out);
          if (out.pendingBytes >= OUTPUT_CHUNK) yield out.take();
        }
      } finally {
        await cursor.close();
      }
    }
  }
  out.finish();
  yield out.take();
  if (stats.total !== options.send.size) throw new Error(`pack has ${stats.total} entries, header says ${options.send.size}`);
}

async function* writeEntry(
  objects: ObjectDB,
  slices: readonly PackSlice[],
  slice: PackSlice,
  k: number,
  cursor: SpanCursor,
  options: PackStreamOptions,
  stats: PackStats,
  out: PackOutput,
): AsyncGenerator<Buffer> {
  const offset = slice.offsets[k];
  const end = slice.index.entryEnd(offset);
  const headerBytes = await cursor.bytes(offset, Math.min(MAX_ENTRY_HEADER, end - offset));
  const header = parseEntryHeader(headerBytes, 0, offset);
  const entryStart = out.offset;
  slice.written[k] = entryStart;
  stats.total++;

  if (header.kind === 'object') {
    out.write(Buffer.from(headerBytes.subarray(0, header.headerLength)));
  } else {
    const newHeader = deltaHeader(slices, slice, offset, header, entryStart, options);
    if (!newHeader) {
      yield* writeWhole(objects, slice, offset, out);
      return;
    }
    out.write(newHeader);
    stats.deltas++;
    stats.reusedDeltas++;
  }
  stats.reused++;
  for await (const piece of cursor.range(offset + header.headerLength, end)) {
    out.write(piece);
    if (out.pendingBytes >= OUTPUT_CHUNK) yield out.take();
  }
}

/** The header a reused delta gets in the outgoing pack, or undefined when its base is not available there. */
function deltaHeader(
  slices: readonly PackSlice[],
  slice: PackSlice,
  offset: number,
  header: Exclude<PackEntryHeader, { kind: 'object' }>,
  entryStart: number,
  options: PackStreamOptions,
): Buffer | undefined {
  let baseOid: ObjectId | undefined;
  let baseWrittenAt = -1;
  let baseLaterInSamePack = false;
  if (header.kind === 'ofs-delta') {
    const position = positionOf(slice, header.baseOffset);
    if (position >= 0) baseWrittenAt = slice.written[position];
  }
  if (baseWrittenAt < 0) {
    baseOid = baseOidOf(slice, offset, header);
    if (options.send.has(baseOid)) {
      const placed = findPlaced(slices, slice, baseOid);
      if (placed && placed.slice.written[placed.position] >= 0) baseWrittenAt = placed.slice.written[placed.position];
      // Within one stored pack deltas form no cycle, so a forward reference there is safe.
      else if (placed && placed.slice === slice) baseLaterInSamePack = true;
    }
  }
  if (baseWrittenAt >= 0) {
    if (options.ofsDelta) return encodeEntryHeader({ kind: 'ofs-delta', size: header.size, distance: entryStart - baseWrittenAt });
    return encodeEntryHeader({ kind: 'ref-delta', size: header.size, baseOid: baseOid ?? baseOidOf(slice, offset, header) });
  }
  if (baseLaterInSamePack || (options.thin && options.clientHas.has(baseOid!))) {
    return encodeEntryHeader({ kind: 'ref-delta', size: header.size, baseOid: baseOid! });
  }
  return undefined;
}

function baseOidOf(slice: PackSlice, offset: number, header: Exclude<PackEntryHeader, { kind: 'object' }>): ObjectId {
  if (header.kind === 'ref-delta') return header.baseOid;
  const oid = slice.index.oidAt(header.baseOffset);
  if (oid === undefined) throw new Error(`pack ${slice.pack}: ofs-delta at ${offset} points at ${header.baseOffset}, where no entry starts`);
  return oid;
}

/** Where an object to send was placed: the one slice that took it. */
function findPlaced(slices: readonly PackSlice[], preferred: PackSlice, oid: ObjectId): { slice: PackSlice; position: number } | undefined {
  for (const slice of [preferred, ...slices]) {
    const offset = slice.index.find(oid);
    if (offset === undefined) continue;
    const position = positionOf(slice, offset);
    if (position >= 0) return { slice, position };
  }
  return undefined;
}

/** Writes the object whole, deflated afresh: for a delta whose base the client will not have. */
async function* writeWhole(objects: ObjectDB, slice: PackSlice, offset: number, out: PackOutput): AsyncGenerator<Buffer> {
  const oid = slice.index.oidAt(offset);
  const object = oid === undefined ? undefined : await objects.read(oid);
  if (!object) throw new Error(`pack ${slice.pack}: the object at offset ${offset} cannot be read`);
  out.write(encodeEntryHeader({ kind: 'object', type: object.type, size: object.data.length }));
  const deflated = object.data.length > ASYNC_DEFLATE_BYTES ? await deflateAsync(object.data) : deflateSync(object.data);
  for (let at = 0; at < deflated.length; at += OUTPUT_CHUNK) {
    out.write(deflated.subarray(at, at + OUTPUT_CHUNK));
    if (out.pendingBytes >= OUTPUT_CHUNK) yield out.take();
  }
}

/** The outgoing pack's bytes: running offset and SHA-1, handed on in pieces. */
class PackOutput {
  offset = 0;
  pendingBytes = 0;
  private pending: Buffer[] = [];
  private readonly hash = createHash('sha1');

  write(bytes: Buffer): void {
    this.hash.update(bytes);
    this.offset += bytes.length;
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
  }

  take(): Buffer {
    const chunk = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    return chunk;
  }

  /** Appends the trailer: the SHA-1 of everything before it. */
  finish(): void {
    const trailer = this.hash.digest();
    this.offset += trailer.length;
    this.pending.push(trailer);
    this.pendingBytes += trailer.length;
  }
}
