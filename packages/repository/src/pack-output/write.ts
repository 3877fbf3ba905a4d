import { promisify } from 'node:util';
import { deflate, deflateSync } from 'node:zlib';
import {
  encodeEntryHeader,
  encodePackHeader,
  MAX_ENTRY_HEADER_LENGTH,
  PACK_TYPE,
  parseEntryHeader,
  type GitObject,
  type PackEntryHeader,
} from '@gitfleet/git-format';
import { CorruptPackError, MissingObjectError } from '../errors.js';
import type { Repository } from '../repository.js';
import { outputEntry, type PackStreamOptions } from './entries.js';
import { reportPackWritten, type PackStats } from './observer.js';

export type { PackStats } from './observer.js';
import { OutputBuffer } from './output-buffer.js';
import type { ReencodedEntry } from './reencoded-cache.js';
import { positionOf, type PackSlice } from './plan.js';
import { SpanCursor } from './span-cursor.js';

const deflateAsync = promisify(deflate);

/** Entries closer than this share one sequential read; the bytes between are skipped. */
export const SPAN_GAP = 128 * 1024;
/** The pack header (signature, version, entry count): the first entry starts after it. */
const PACK_HEADER_BYTES = 12;
/** Output is handed on in pieces of about this size. */
const OUTPUT_CHUNK = 256 * 1024;
const ASYNC_DEFLATE_BYTES = 64 * 1024;
/** Entries up to this size that go out exactly as stored are read as one buffer and written as is. */
const VERBATIM_ENTRY_BYTES = 256 * 1024;

/** How one entry was written. */
type EntryOutcome = 'copied' | 'copied-delta' | 'recompressed';

type PackSource = Pick<Repository, 'objects' | 'packs'>;

/**
 * Streams a pack of the planned objects, copying each stored entry's compressed bytes as they
 * are (see outputEntry for which deltas stay deltas); only a delta whose base the client will
 * not have is inflated, resolved and deflated again. Memory stays at a few stream chunks plus
 * one output piece, whatever the pack's size. Returns what the pack was made of.
 *
 * An entry whose outgoing bytes are its stored bytes (a whole object, or a delta whose base
 * landed at the same distance before it) is copied as one range, header included: so a run of
 * consecutive stored entries, all sent, goes out byte for byte, its ofs-delta distances still
 * valid (git's pack reuse), and a full clone of a repacked repository streams the stored pack
 * nearly as is, only its header and trailer new.
 */
export async function* streamPack(
  source: PackSource,
  slices: readonly PackSlice[],
  options: PackStreamOptions,
): AsyncGenerator<Buffer, PackStats> {
  const stats: PackStats = { total: 0, deltas: 0, reused: 0, reusedDeltas: 0, bytes: 0, copiedBytes: 0, recompressedBytes: 0 };
  const out = new OutputBuffer();
  out.write(encodePackHeader(options.send.size));
  for (const slice of slices) {
    const { offsets, index } = slice;
    let position = 0;
    while (position < offsets.length) {
      let last = position;
      while (last + 1 < offsets.length && offsets[last + 1] - index.entryEnd(offsets[last]) <= SPAN_GAP) last++;
      const spanStart = offsets[position];
      const spanEnd = index.entryEnd(offsets[last]);
      const cursor = new SpanCursor(await source.packs.stream(slice.pack, spanStart, spanEnd), spanStart, slice.pack);
      try {
        if (position === 0 && out.offset === PACK_HEADER_BYTES && options.ofsDelta) {
          position = yield* copyLeadingRun(slice, leadingRunLength(slice, last), cursor, out, stats);
        }
        for (; position <= last; position++) {
          const request = { source, slices, slice, position, cursor, options, out };
          const entryStart = out.offset;
          const outcome = (await copyVerbatim(request)) ?? (yield* writeEntry(request));
          stats.total++;
          if (outcome === 'recompressed') stats.recompressedBytes += out.offset - entryStart;
          else {
            stats.reused++;
            stats.copiedBytes += out.offset - entryStart;
          }
          if (outcome === 'copied-delta') {
            stats.deltas++;
            stats.reusedDeltas++;
          }
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
  stats.bytes = out.offset;
  reportPackWritten(stats);
  return stats;
}

/**
 * How many of the slice's first entries (up to position `last`) are the stored pack's first
 * entries, none left out: offset for offset, they are where the outgoing pack puts them.
 */
function leadingRunLength(slice: PackSlice, last: number): number {
  const { offsets, index } = slice;
  let length = 0;
  while (length <= last && offsets[length] === index.offsetInPackOrder(length)) length++;
  return length;
}

/**
 * git's pack reuse (reuse_partial_packfile_from_bitmap): while the outgoing pack is the stored
 * one entry for entry from its first, its bytes are the stored bytes, ofs-delta distances
 * included, and they go out in the stream's own chunks; of each entry only its type is read.
 * The run stops before a ref-delta, which writeEntry handles. Returns the position after the
 * entries copied.
 */
async function* copyLeadingRun(
  slice: PackSlice,
  length: number,
  cursor: SpanCursor,
  out: OutputBuffer,
  stats: PackStats,
): AsyncGenerator<Buffer, number> {
  if (length === 0) return 0;
  const { offsets, written } = slice;
  const start = out.offset;
  let position = 0;
  let deltas = 0;
  let at = offsets[0];
  for await (const piece of cursor.range(at, slice.index.offsetInPackOrder(length))) {
    const pieceEnd = at + piece.length;
    let copied = piece.length;
    for (; position < length && offsets[position] < pieceEnd; position++) {
      const code = (piece[offsets[position] - at] >> 4) & 7;
      if (code === PACK_TYPE.refDelta) {
        copied = offsets[position] - at;
        break;
      }
      if (code === PACK_TYPE.ofsDelta) deltas++;
      written[position] = offsets[position];
    }
    out.write(piece.subarray(0, copied));
    at += copied;
    if (copied < piece.length) break;
    if (out.pendingBytes >= OUTPUT_CHUNK) yield out.take();
  }
  stats.total += position;
  stats.reused += position;
  stats.deltas += deltas;
  stats.reusedDeltas += deltas;
  stats.copiedBytes += out.offset - start;
  return position;
}

interface WriteEntryRequest {
  source: PackSource;
  slices: readonly PackSlice[];
  slice: PackSlice;
  /** The entry's position in the slice's offsets. */
  position: number;
  /** Reads the span of the stored pack that holds the entry. */
  cursor: SpanCursor;
  options: PackStreamOptions;
  out: OutputBuffer;
}

/** Writes one stored entry into the outgoing pack and records where it landed. */
async function* writeEntry(request: WriteEntryRequest): AsyncGenerator<Buffer, EntryOutcome> {
  const { source, slices, slice, position, cursor, options, out } = request;
  const offset = slice.offsets[position];
  const end = slice.index.entryEnd(offset);
  const storedBytes = await cursor.bytes(offset, Math.min(MAX_ENTRY_HEADER_LENGTH, end - offset));
  const stored = parseEntryHeader(storedBytes, 0, offset);
  const writtenAt = out.offset;
  slice.written[position] = writtenAt;

  const entry = outputEntry({ slices, slice, offset, stored, storedBytes, writtenAt, options });
  if (entry.kind === 'whole') {
    yield* writeWhole(source, slice, offset, out);
    return 'recompressed';
  }
  out.write(entry.header);
  for await (const piece of cursor.range(offset + stored.headerLength, end)) {
    out.write(piece);
    if (out.pendingBytes >= OUTPUT_CHUNK) yield out.take();
  }
  return entry.delta ? 'copied-delta' : 'copied';
}

/**
 * Copies the entry as stored, header and all, when that is exactly what it must become; else
 * undefined, leaving the entry to writeEntry.
 */
async function copyVerbatim(request: WriteEntryRequest): Promise<EntryOutcome | undefined> {
  const { slices, slice, position, cursor, options, out } = request;
  const offset = slice.offsets[position];
  const end = slice.index.entryEnd(offset);
  if (end - offset > VERBATIM_ENTRY_BYTES) return undefined;
  const storedBytes = await cursor.bytes(offset, end - offset);
  const stored = parseEntryHeader(storedBytes, 0, offset);
  const writtenAt = out.offset;
  if (!headerUnchanged(slice, stored, offset, writtenAt, options)) {
    const entry = outputEntry({ slices, slice, offset, stored, storedBytes, writtenAt, options });
    if (entry.kind !== 'copy' || !entry.header.equals(storedBytes.subarray(0, stored.headerLength))) return undefined;
  }
  slice.written[position] = writtenAt;
  out.write(storedBytes);
  return stored.kind === 'object' ? 'copied' : 'copied-delta';
}

/**
 * The common cases where an entry's stored header is already its outgoing one, told without
 * building a header: a whole object, or an ofs-delta whose base moved by as much as it did
 * (both in one stretch of the stored pack sent without a gap). False: outputEntry decides.
 */
function headerUnchanged(
  slice: PackSlice,
  stored: PackEntryHeader,
  offset: number,
  writtenAt: number,
  options: PackStreamOptions,
): boolean {
  if (stored.kind === 'object') return true;
  if (stored.kind !== 'ofs-delta' || !options.ofsDelta) return false;
  const base = positionOf(slice, stored.baseOffset);
  return base >= 0 && slice.written[base] >= 0 && writtenAt - slice.written[base] === offset - stored.baseOffset;
}

/** Writes the object whole, deflated afresh (or as deflated before): for a delta whose base the client will not have. */
async function* writeWhole(source: PackSource, slice: PackSlice, offset: number, out: OutputBuffer): AsyncGenerator<Buffer> {
  const { header, deflated } = await reencoded(source, slice, offset);
  out.write(header);
  for (let at = 0; at < deflated.length; at += OUTPUT_CHUNK) {
    out.write(deflated.subarray(at, at + OUTPUT_CHUNK));
    if (out.pendingBytes >= OUTPUT_CHUNK) yield out.take();
  }
}

async function reencoded(source: PackSource, slice: PackSlice, offset: number): Promise<ReencodedEntry> {
  const cache = source.packs.reencodedEntries;
  const cached = cache.get(slice.pack, offset);
  if (cached) return cached;
  const oid = slice.index.oidAt(offset);
  if (oid === undefined) throw new CorruptPackError(slice.pack, `pack ${slice.pack}: its index names no entry at offset ${offset}`);
  const object = await source.objects.read(oid);
  if (!object) throw new MissingObjectError(oid, `stored in pack ${slice.pack} at offset ${offset}, then not readable`);
  const entry = await wholeEntry(object);
  cache.set(slice.pack, offset, entry);
  return entry;
}

/** The entry of an object stored whole: its header and its data deflated afresh. */
export async function wholeEntry(object: GitObject): Promise<ReencodedEntry> {
  const header = encodeEntryHeader({ kind: 'object', type: object.type, size: object.data.length });
  return { header, deflated: await deflateEntryData(object.data) };
}

/** An entry's data deflated afresh, off the event loop when large. */
export async function deflateEntryData(data: Uint8Array): Promise<Buffer> {
  return data.length > ASYNC_DEFLATE_BYTES ? deflateAsync(data) : deflateSync(data);
}
