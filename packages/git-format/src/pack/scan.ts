import { createHash } from 'node:crypto';
import type { ObjectType } from '../oid.js';
import { crc32 } from './crc32.js';
import { deltaSizes } from './delta.js';
import { MAX_ENTRY_HEADER_LENGTH, PACK_TYPE, PackFormatError, parseEntryHeader, parsePackHeader } from './entry.js';
import { DeltaArena } from './delta-arena.js';
import { EntryTable } from './entry-table.js';
import { SequentialWindow } from './file-readers.js';
import { IndexWorkCapReached, type ExpansionBudget } from './limits.js';
import type { PackFile } from './pack-file.js';
import { TruncatedInput, inflateEntry, objectIdBytes } from './inflate.js';

/** Memory for inflated deltas carried from pass one to pass two. */
const DELTA_ARENA_LIMIT = 64 << 20;

/** The smallest possible entry: a 1-byte header and an 8-byte zlib stream of nothing. */
const MIN_ENTRY_LENGTH = 9;

export interface ScanOptions {
  maxObjectSize: number;
  /** Charged with each entry's inflated size before it is inflated. */
  budget: ExpansionBudget;
  /** IndexPackOptions.workCap: checked before each inflate against what the pack has asked for so far. */
  workCap?: number;
  onObject?(oid: string, type: ObjectType, data: Buffer): void | Promise<void>;
  onProgress?(phase: 'receiving' | 'resolving', done: number, total: number): void;
}

export interface ScanResult {
  table: EntryTable;
  deltas: DeltaArena;
  /** The verified trailer: SHA-1 of everything before it. */
  checksum: Buffer;
  /** Where the trailer starts, i.e. where the last entry ends. */
  dataEnd: number;
}

/**
 * Pass one: reads the pack front to back once, parsing each entry header, inflating each
 * entry to find where its zlib stream ends, recording its CRC-32, hashing every whole
 * object, and checking the trailer. Deltas are only measured here; pass two resolves them.
 */
export async function scanPack(file: PackFile, fileSize: number, options: ScanOptions): Promise<ScanResult> {
  if (fileSize < 32) throw new PackFormatError(`pack truncated: ${fileSize} bytes`);
  const dataEnd = fileSize - 20;
  const hash = createHash('sha1');
  const window = new SequentialWindow(file, dataEnd, hash);
  await window.ensure(0, 12);
  const { objectCount } = parsePackHeader(window.view(0, 12));
  if (objectCount > (dataEnd - 12) / MIN_ENTRY_LENGTH) {
    throw new PackFormatError(`pack header claims ${objectCount} objects, more than its ${fileSize} bytes can hold`);
  }
  const table = new EntryTable(objectCount);
  const deltas = new DeltaArena(objectCount, DELTA_ARENA_LIMIT);
  // A delta may be longer than what it builds (an insert costs a byte per 127), never by this much.
  const maxDeltaSize = 2 * options.maxObjectSize + 1024;

  const work = new DeclaredWork(options.budget, options.workCap);
  let pos = 12;
  for (let n = 0; n < objectCount; n++) {
    if (pos >= dataEnd)
      throw new PackFormatError(`pack truncated: entry ${n} of ${objectCount} would start at offset ${pos}, in the trailer`);
    const headerBytes = await window.ensure(pos, MAX_ENTRY_HEADER_LENGTH);
    const header = parseEntryHeader(window.view(pos, headerBytes), 0, pos);
    const dataStart = pos + header.headerLength;
    const limit = header.kind === 'object' ? options.maxObjectSize : maxDeltaSize;
    if (header.size > limit) {
      throw new PackFormatError(`entry at offset ${pos} declares ${header.size} bytes, over the limit of ${limit}`);
    }

    work.checkRoomFor(header.size);
    options.budget.charge(header.size);
    const { data, consumed } = await inflateAt(window, pos, dataStart, dataEnd, header.size);
    const end = dataStart + consumed;
    const code = header.kind === 'object' ? PACK_TYPE[header.type] : header.kind === 'ofs-delta' ? PACK_TYPE.ofsDelta : PACK_TYPE.refDelta;
    const i = table.add(pos, header.headerLength, code, header.size, crc32(window.view(pos, end - pos)));

    if (header.kind === 'object') {
      const oid = objectIdBytes(code, data);
      oid.copy(table.oids, 20 * i);
      table.types[i] = code;
      const pending = options.onObject?.(oid.toString('hex'), header.type, data);
      if (pending) await pending;
    } else {
      const sizes = deltaSizes(data);
      if (sizes.result > options.maxObjectSize) {
        throw new PackFormatError(`delta at offset ${pos} produces ${sizes.result} bytes, over the limit of ${options.maxObjectSize}`);
      }
      work.addDelta(sizes.base, sizes.result);
      deltas.keep(i, data);
      if (header.kind === 'ofs-delta') {
        const base = table.entryAt(header.baseOffset);
        if (base < 0) throw new PackFormatError(`ofs-delta at offset ${pos} points at offset ${header.baseOffset}, where no entry starts`);
        table.bases[i] = base;
      } else {
        window.view(dataStart - 20, 20).copy(table.refBaseTable(), 20 * i);
      }
    }
    options.onProgress?.('receiving', n + 1, objectCount);
    pos = end;
  }
  if (pos !== dataEnd)
    throw new PackFormatError(`pack has ${dataEnd - pos} bytes of unexpected data after its last entry, at offset ${pos}`);

  const checksum = hash.digest();
  const trailer = Buffer.alloc(20);
  await file.read(trailer, 0, 20, dataEnd);
  if (!checksum.equals(trailer)) {
    throw new PackFormatError(
      `pack checksum mismatch: the trailer says ${trailer.toString('hex')}, the content hashes to ${checksum.toString('hex')}`,
    );
  }
  return { table, deltas, checksum, dataEnd };
}

/**
 * The expansion a pack asks for by what it declares: every entry's inflated size, and for each
 * delta its base (a thin pack's comes from the repository) and its result. For a well-formed
 * pack this bounds all the work of both passes; a pack that lies about a size fails where the
 * size is checked (applyDelta, ThinPackCompletion) before doing more than it declared.
 */
class DeclaredWork {
  private deltaBytes = 0;

  constructor(
    private readonly budget: ExpansionBudget,
    private readonly cap: number | undefined,
  ) {}

  checkRoomFor(bytes: number): void {
    if (this.cap !== undefined && this.budget.inflatedBytes + this.deltaBytes + bytes > this.cap) throw new IndexWorkCapReached(this.cap);
  }

  addDelta(baseBytes: number, resultBytes: number): void {
    this.deltaBytes += baseBytes + resultBytes;
    this.checkRoomFor(0);
  }
}

/** zlib's deflateBound: what a compliant deflater may emit at most for `size` bytes. */
function deflateBound(size: number): number {
  return size + Math.ceil(size / 4096) + Math.ceil(size / 16384) + 64;
}

/**
 * Inflates the entry whose zlib data starts at `dataStart`, reading just enough of the file.
 * Compressed data far longer than any deflater would emit is refused rather than buffered.
 */
async function inflateAt(window: SequentialWindow, entryOffset: number, dataStart: number, dataEnd: number, size: number) {
  const maxCompressed = 2 * size + 65536;
  let want = Math.min(deflateBound(size), dataEnd - dataStart);
  for (;;) {
    // Keep the entry's header resident too: its CRC-32 covers header and data.
    const available = (await window.ensure(entryOffset, dataStart - entryOffset + want)) - (dataStart - entryOffset);
    try {
      return inflateEntry(window.view(dataStart, Math.min(want, available)), size, entryOffset);
    } catch (error) {
      if (!(error instanceof TruncatedInput)) throw error;
      if (available < want || dataStart + want >= dataEnd) {
        throw new PackFormatError(`pack truncated: the zlib data of the entry at offset ${entryOffset} runs into the trailer`);
      }
      if (want >= maxCompressed) {
        throw new PackFormatError(`entry at offset ${entryOffset} has more than ${maxCompressed} bytes of zlib data for ${size} bytes`);
      }
      want = Math.min(2 * want, maxCompressed, dataEnd - dataStart);
    }
  }
}
