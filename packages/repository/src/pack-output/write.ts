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
 * Consecutive stored entries, all sent, go out as one run of the stored bytes (git's pack reuse,
 * see copyRun): only a delta whose base moved by a different distance gets a new header. A
 * full clone of a repacked repository streams the stored pack nearly as is.
 *
 * Each chunk yielded is the pieces of output in order, views of the stored pack's reads: framing
 * copies them once.
 */
export async function* streamPack(
  source: PackSource,
  slices: readonly PackSlice[],
  options: PackStreamOptions,
): AsyncGenerator<Buffer[], PackStats> {
  const stats: PackStats = { total: 0, deltas: 0, reused: 0, reusedDeltas: 0, bytes: 0, copiedBytes: 0, recompressedBytes: 0 };
  const out = new OutputBuffer();
  out.write(encodePackHeader(options.send.size));
  for (const slice of slices) {
    const { offsets, index } = slice;
    const stretch: Stretch = { start: -1, end: -1, shift: 0 };
    let position = 0;
    while (position < offsets.length) {
      let last = position;
      while (last + 1 < offsets.length && offsets[last + 1] - index.entryEnd(offsets[last]) <= SPAN_GAP) last++;
      const spanStart = offsets[position];
      const spanEnd = index.entryEnd(offsets[last]);
      const cursor = new SpanCursor(await source.packs.stream(slice.pack, spanStart, spanEnd), spanStart, slice.pack);
      try {
        while (position <= last) {
          const runEnd = yield* copyRun(slice, position, last, { slices, cursor, out, stats, stretch, options });
          if (runEnd > position) {
            position = runEnd;
            continue;
          }
          const request = { source, slices, slice, position, cursor, options, out };
          const entryStart = out.offset;
          const outcome = (await copyVerbatim(request)) ?? (yield* writeEntry(request));
          extendStretch(stretch, offsets[position], index.entryEnd(offsets[position]), slice.written[position]);
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
          position++;
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
 * The stretch of the stored pack, up to the last entry written, whose entries all went out back
 * to back, each moved by the same distance (`shift`): an ofs-delta whose base lies in it keeps
 * its distance.
 */
interface Stretch {
  start: number;
  end: number;
  shift: number;
}

/** Records the entry stored at [offset, end), written at `writtenAt`: it extends the stretch, or starts the next. */
function extendStretch(stretch: Stretch, offset: number, end: number, writtenAt: number): void {
  if (offset !== stretch.end || writtenAt - offset !== stretch.shift) {
    stretch.start = offset;
    stretch.shift = writtenAt - offset;
  }
  stretch.end = end;
}

interface RunOutput {
  slices: readonly PackSlice[];
  cursor: SpanCursor;
  out: OutputBuffer;
  stats: PackStats;
  stretch: Stretch;
  options: PackStreamOptions;
}

/**
 * git's pack reuse (reuse_partial_packfile_from_bitmap): from `position` on, while the entries to
 * send are consecutive entries of the stored pack, their bytes go out as stored, in the stream's
 * own chunks; of each entry only its header is read. An ofs-delta whose base lies in the stretch
 * (see Stretch) keeps its distance; any other delta gets the header outputEntry gives it. The run
 * stops before a delta that must go out whole (its base neither sent nor on the client) or whose
 * header the chunk cuts off: the per-entry path takes that one. Returns the position after the
 * entries copied.
 */
async function* copyRun(slice: PackSlice, position: number, last: number, output: RunOutput): AsyncGenerator<Buffer[], number> {
  const { slices, cursor, out, stats, stretch, options } = output;
  const { offsets, written, index } = slice;
  const runStart = offsets[position];
  extendStretch(stretch, runStart, runStart, out.offset);
  const outStart = out.offset;
  let packOrder = index.positionInPackOrder(runStart);
  let next = position;
  let deltas = 0;
  /** Where the entries taken so far end: the next one must start there to be taken too. */
  let takenEnd = runStart;
  let at = runStart;
  for await (const piece of cursor.range(runStart, index.entryEnd(offsets[last]))) {
    const pieceEnd = at + piece.length;
    /** The first byte of the piece that is neither written out nor replaced. */
    let unwritten = at;
    while (next <= last && offsets[next] === takenEnd && takenEnd < pieceEnd) {
      const offset = takenEnd;
      const end = index.offsetInPackOrder(packOrder + 1);
      const code = (piece[offset - at] >> 4) & 7;
      let moved: { header: Buffer; storedLength: number } | undefined;
      if (code === PACK_TYPE.ofsDelta || code === PACK_TYPE.refDelta) {
        if (end > pieceEnd && pieceEnd - offset < MAX_ENTRY_HEADER_LENGTH) break;
        const storedBytes = piece.subarray(offset - at);
        const stored = parseEntryHeader(storedBytes, 0, offset);
        const keepsDistance = stored.kind === 'ofs-delta' && options.ofsDelta && stored.baseOffset >= stretch.start;
        if (!keepsDistance) {
          const entry = outputEntry({ slices, slice, offset, stored, storedBytes, writtenAt: offset + stretch.shift, options });
          if (entry.kind === 'whole') break;
          if (!entry.header.equals(storedBytes.subarray(0, stored.headerLength))) {
            moved = { header: entry.header, storedLength: stored.headerLength };
          }
        }
        deltas++;
      } else if (code === 0 || code === 5) break;
      written[next] = offset + stretch.shift;
      stretch.end = end;
      if (moved) {
        out.write(piece.subarray(unwritten - at, offset - at));
        out.write(moved.header);
        unwritten = offset + moved.storedLength;
        // The entries after this one move by as much as its header grew or shrank.
        const growth = moved.header.length - moved.storedLength;
        if (growth !== 0) extendStretch(stretch, end, end, end + stretch.shift + growth);
      }
      takenEnd = end;
      packOrder++;
      next++;
    }
    const copyEnd = Math.min(pieceEnd, takenEnd);
    out.write(piece.subarray(unwritten - at, copyEnd - at));
    at = copyEnd;
    if (out.pendingBytes >= OUTPUT_CHUNK) yield out.take();
    const inEntryBody = takenEnd > pieceEnd;
    const nextTaken = takenEnd === pieceEnd && next <= last && offsets[next] === takenEnd;
    if (!inEntryBody && !nextTaken) break;
  }
  const taken = next - position;
  stats.total += taken;
  stats.reused += taken;
  stats.deltas += deltas;
  stats.reusedDeltas += deltas;
  stats.copiedBytes += out.offset - outStart;
  return next;
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
async function* writeEntry(request: WriteEntryRequest): AsyncGenerator<Buffer[], EntryOutcome> {
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
async function* writeWhole(source: PackSource, slice: PackSlice, offset: number, out: OutputBuffer): AsyncGenerator<Buffer[]> {
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
