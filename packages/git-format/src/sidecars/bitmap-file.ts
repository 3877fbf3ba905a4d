/**
 * The `.bitmap` file, version 1 (gitformat-pack, "pack-*.bitmap files"): "BITM", version,
 * flags, entry count and pack checksum; the commit, tree, blob and tag type bitmaps; then per
 * selected commit its idx position, an XOR offset, flags and an EWAH bitmap over pack
 * positions (`.rev` order); optional lookup table and name-hash cache; the file's SHA-1.
 */
import { createHash } from 'node:crypto';
import type { ObjectId } from '../oid.js';
import { Lru } from '../lru.js';
import type { Bitmap } from './bitmap.js';
import { CorruptSidecarError } from './errors.js';
import { decodeEwah, encodeEwah } from './ewah.js';

const BITMAP_MAGIC = 0x4249544d;
const BITMAP_VERSION = 1;
export const BITMAP_OPT_FULL_DAG = 0x1;
export const BITMAP_OPT_HASH_CACHE = 0x4;
export const BITMAP_OPT_LOOKUP_TABLE = 0x10;
const KNOWN_FLAGS = BITMAP_OPT_FULL_DAG | BITMAP_OPT_HASH_CACHE | BITMAP_OPT_LOOKUP_TABLE;
const HEADER_BYTES = 32;
const ENTRY_HEADER_BYTES = 6;
const LOOKUP_TABLE_ROW_BYTES = 16;
/** How far back git's reader lets an XOR offset point (pack-bitmap.c). */
const MAX_XOR_OFFSET = 160;
/** How many earlier entries git's writer tries as XOR bases (pack-bitmap-write.c). */
const XOR_SEARCH_WINDOW = 10;

/** Which objects of the pack have each type, as bitmaps over pack positions. */
export interface TypeBitmaps {
  commits: Bitmap;
  trees: Bitmap;
  blobs: Bitmap;
  tags: Bitmap;
}

export interface BitmapEntryInput {
  /** The commit's position in the `.idx`. */
  indexPosition: number;
  /** Every object reachable from the commit, by pack position. */
  bitmap: Bitmap;
  /** Per-entry flags (git's BITMAP_FLAG_REUSE = 1); 0 when absent. */
  flags?: number;
}

export interface BitmapFileInput {
  packChecksum: ObjectId;
  objectCount: number;
  types: TypeBitmaps;
  /**
   * In the order they are written. Each entry may be stored XORed with one of the ten before
   * it, so neighbours with similar reachability (e.g. ancestors first) compress best.
   */
  entries: readonly BitmapEntryInput[];
  /**
   * When given, the name-hash cache (BITMAP_OPT_HASH_CACHE): for each idx position (object id
   * order, unlike the bitmaps), packNameHash of the name the object was first reached by (0 for
   * commits and objects without a name).
   */
  nameHashes?: Uint32Array;
}

/** Writes a `.bitmap` v1 with BITMAP_OPT_FULL_DAG, and the name-hash cache when given (no lookup table). */
export function writeBitmapFile(input: BitmapFileInput): Buffer {
  const { objectCount, entries, nameHashes } = input;
  const checksum = Buffer.from(input.packChecksum, 'hex');
  if (checksum.length !== 20) throw new RangeError(`invalid pack checksum ${input.packChecksum}`);
  if (nameHashes !== undefined && nameHashes.length !== objectCount) {
    throw new RangeError(`${nameHashes.length} name hashes for a pack of ${objectCount} objects`);
  }
  requirePartition(input.types, objectCount);
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32BE(BITMAP_MAGIC, 0);
  header.writeUInt16BE(BITMAP_VERSION, 4);
  header.writeUInt16BE(BITMAP_OPT_FULL_DAG | (nameHashes === undefined ? 0 : BITMAP_OPT_HASH_CACHE), 6);
  header.writeUInt32BE(entries.length, 8);
  checksum.copy(header, 12);
  const parts: Buffer[] = [header];
  for (const type of ['commits', 'trees', 'blobs', 'tags'] as const) {
    const bitmap = input.types[type];
    parts.push(encodeEwah(bitmap, bitmap.bitLength()));
  }
  const seen = new Set<number>();
  entries.forEach((entry, i) => {
    if (!(Number.isInteger(entry.indexPosition) && entry.indexPosition >= 0 && entry.indexPosition < objectCount)) {
      throw new RangeError(`entry ${i}: idx position ${entry.indexPosition} outside a pack of ${objectCount} objects`);
    }
    if (seen.has(entry.indexPosition)) throw new RangeError(`entry ${i}: idx position ${entry.indexPosition} has a bitmap already`);
    seen.add(entry.indexPosition);
    if (entry.bitmap.bitLength() > objectCount) {
      throw new RangeError(`entry ${i}'s bitmap sets bit ${entry.bitmap.bitLength() - 1} of a pack of ${objectCount} objects`);
    }
    const { xorOffset, encoded } = smallestEncoding(entries, i);
    const entryHeader = Buffer.alloc(ENTRY_HEADER_BYTES);
    entryHeader.writeUInt32BE(entry.indexPosition, 0);
    entryHeader.writeUInt8(xorOffset, 4);
    entryHeader.writeUInt8(entry.flags ?? 0, 5);
    parts.push(entryHeader, encoded);
  });
  if (nameHashes !== undefined) {
    const cache = Buffer.alloc(4 * objectCount);
    nameHashes.forEach((hash, i) => cache.writeUInt32BE(hash, 4 * i));
    parts.push(cache);
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([body, createHash('sha1').update(body).digest()]);
}

/** git's --test-bitmap requires every object of the pack to have exactly one type. */
function requirePartition(types: TypeBitmaps, objectCount: number): void {
  const all = types.commits.clone().or(types.trees).or(types.blobs).or(types.tags);
  const total = types.commits.count() + types.trees.count() + types.blobs.count() + types.tags.count();
  if (all.bitLength() > objectCount || all.count() !== objectCount || total !== objectCount) {
    throw new RangeError(`the type bitmaps give ${total} types to ${all.count()} of the pack's ${objectCount} objects`);
  }
}

/** The entry's bitmap as is, or XORed with an earlier one when that takes fewer words, as git's compute_xor_offsets does. */
function smallestEncoding(entries: readonly BitmapEntryInput[], i: number): { xorOffset: number; encoded: Buffer } {
  const bitmap = entries[i].bitmap;
  let best = { xorOffset: 0, encoded: encodeEwah(bitmap) };
  for (let offset = 1; offset <= XOR_SEARCH_WINDOW && offset <= i; offset++) {
    const base = entries[i - offset].bitmap;
    // git's ewah_xor result spans the longer operand, trailing zero words included.
    const bitSize = 64 * Math.ceil(Math.max(bitmap.bitLength(), base.bitLength()) / 64);
    const encoded = encodeEwah(bitmap.clone().xor(base), bitSize);
    if (encoded.length < best.encoded.length) best = { xorOffset: offset, encoded };
  }
  return best;
}

/** One selected commit as the file stores it. */
export interface BitmapEntryInfo {
  commit: ObjectId;
  /** 0, or how many entries back the bitmap this one is XORed with sits. */
  xorOffset: number;
  flags: number;
}

interface StoredEntry extends BitmapEntryInfo {
  /** Where its EWAH bitmap starts in the file. */
  ewahAt: number;
}

/** What a `.bitmap` needs from its pack: the object count, checksum, and ids by idx position. */
export interface BitmapPack {
  objectCount: number;
  packChecksum: ObjectId;
  oidAt(indexPosition: number): ObjectId;
}

/** Memory for resolved entries: 4 bytes per object of the pack, 32 bitmaps of one bit per object. */
const RESOLVED_BYTES_PER_OBJECT = 4;

/**
 * A parsed `.bitmap`. The structure (header, every entry's bounds and XOR reference, trailer)
 * is checked up front; an entry's bitmap is decoded when asked for, its XOR chain resolved
 * then and the result kept, as git does, up to the worth of 32 whole bitmaps (the least recently
 * used go first, and are decoded again if asked for).
 */
export class BitmapFile {
  readonly flags: number;
  readonly types: TypeBitmaps;
  /** Name hashes by idx position (git reads them so, pack-bitmap.c), when the file has the hash cache. */
  readonly nameHashes: Uint32Array | undefined;
  private readonly file: Buffer;
  private readonly objectCount: number;
  private readonly entries: StoredEntry[];
  private readonly entryByCommit: Map<ObjectId, number>;
  /** Resolved entries, bounded (RESOLVED_BYTES_PER_OBJECT): a server keeps a BitmapFile for as long as its pack is read. */
  private readonly resolved: Lru<number, Bitmap>;

  private constructor(file: Buffer, pack: BitmapPack) {
    this.file = file;
    this.objectCount = pack.objectCount;
    this.resolved = new Lru(RESOLVED_BYTES_PER_OBJECT * pack.objectCount, (bitmap) => bitmap.words.byteLength);
    if (file.length < HEADER_BYTES + 20) throw new CorruptSidecarError('bitmap', `${file.length} bytes is too short`);
    if (file.readUInt32BE(0) !== BITMAP_MAGIC) throw new CorruptSidecarError('bitmap', 'bad signature at offset 0');
    const version = file.readUInt16BE(4);
    if (version !== BITMAP_VERSION) throw new CorruptSidecarError('bitmap', `unsupported version ${version} at offset 4`);
    this.flags = file.readUInt16BE(6);
    if ((this.flags & BITMAP_OPT_FULL_DAG) === 0) throw new CorruptSidecarError('bitmap', 'BITMAP_OPT_FULL_DAG is not set');
    if ((this.flags & ~KNOWN_FLAGS) !== 0) throw new CorruptSidecarError('bitmap', `unknown flags ${this.flags.toString(16)}`);
    const entryCount = file.readUInt32BE(8);
    const packChecksum = file.toString('hex', 12, 32);
    if (packChecksum !== pack.packChecksum)
      throw new CorruptSidecarError('bitmap', `written for pack ${packChecksum}, not ${pack.packChecksum}`);
    const trailerAt = file.length - 20;
    if (!createHash('sha1').update(file.subarray(0, trailerAt)).digest().equals(file.subarray(trailerAt))) {
      throw new CorruptSidecarError('bitmap', 'checksum mismatch');
    }

    let entriesEnd = trailerAt;
    if (this.flags & BITMAP_OPT_HASH_CACHE) {
      entriesEnd -= 4 * pack.objectCount;
      if (entriesEnd < HEADER_BYTES) throw new CorruptSidecarError('bitmap', `too short for a hash cache of ${pack.objectCount} objects`);
      const hashes = new Uint32Array(pack.objectCount);
      for (let i = 0; i < pack.objectCount; i++) hashes[i] = file.readUInt32BE(entriesEnd + 4 * i);
      this.nameHashes = hashes;
    }
    if (this.flags & BITMAP_OPT_LOOKUP_TABLE) {
      entriesEnd -= LOOKUP_TABLE_ROW_BYTES * entryCount;
      if (entriesEnd < HEADER_BYTES) throw new CorruptSidecarError('bitmap', `too short for a lookup table of ${entryCount} entries`);
    }
    const body = file.subarray(0, entriesEnd);

    let at = HEADER_BYTES;
    const typeBitmap = (): Bitmap => {
      const decoded = decodeEwah(body, at, pack.objectCount);
      at += decoded.byteLength;
      return decoded.bitmap;
    };
    this.types = { commits: typeBitmap(), trees: typeBitmap(), blobs: typeBitmap(), tags: typeBitmap() };

    // Every entry costs at least its header and an empty EWAH: bounds the count before allocating.
    if (entryCount > (entriesEnd - at) / (ENTRY_HEADER_BYTES + 12)) {
      throw new CorruptSidecarError('bitmap', `${entryCount} entries cannot fit in ${entriesEnd - at} bytes`);
    }
    this.entries = [];
    this.entryByCommit = new Map();
    for (let i = 0; i < entryCount; i++) {
      if (entriesEnd - at < ENTRY_HEADER_BYTES) throw new CorruptSidecarError('bitmap', `entry ${i} truncated at byte ${at}`);
      const indexPosition = body.readUInt32BE(at);
      const xorOffset = body.readUInt8(at + 4);
      const flags = body.readUInt8(at + 5);
      if (indexPosition >= pack.objectCount) {
        throw new CorruptSidecarError('bitmap', `entry ${i} names idx position ${indexPosition} of ${pack.objectCount}`);
      }
      if (xorOffset > MAX_XOR_OFFSET || xorOffset > i) throw new CorruptSidecarError('bitmap', `entry ${i} has XOR offset ${xorOffset}`);
      const ewahAt = at + ENTRY_HEADER_BYTES;
      at = ewahAt + ewahByteLength(body, ewahAt);
      const commit = pack.oidAt(indexPosition);
      if (this.entryByCommit.has(commit)) throw new CorruptSidecarError('bitmap', `entry ${i} repeats commit ${commit}`);
      this.entryByCommit.set(commit, i);
      this.entries.push({ commit, xorOffset, flags, ewahAt });
    }
    if (at !== entriesEnd) throw new CorruptSidecarError('bitmap', `${entriesEnd - at} unexplained bytes after the last entry`);
  }

  /** Parses and checks `bytes` against the pack it must belong to; CorruptSidecarError when it does not. */
  static parse(bytes: Uint8Array, pack: BitmapPack): BitmapFile {
    return new BitmapFile(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), pack);
  }

  /** Every entry (the commits that have a bitmap), in file order. */
  get entryInfos(): BitmapEntryInfo[] {
    return this.entries.map(({ commit, xorOffset, flags }) => ({ commit, xorOffset, flags }));
  }

  /**
   * Objects reachable from `commit`, by pack position (a copy the caller may change), or
   * undefined when it has no bitmap. CorruptSidecarError when the EWAH data of the entry or
   * of one in its XOR chain is malformed: parse checks bounds, decoding checks the rest.
   */
  bitmapFor(commit: ObjectId): Bitmap | undefined {
    const i = this.entryByCommit.get(commit);
    return i === undefined ? undefined : this.resolve(i).clone();
  }

  private resolve(entryIndex: number): Bitmap {
    // XOR bases are strictly earlier entries, so the chain ends within entryIndex steps.
    const chain: number[] = [];
    let i = entryIndex;
    let base: Bitmap | undefined;
    while (i >= 0 && (base = this.resolved.get(i)) === undefined) {
      chain.push(i);
      const { xorOffset } = this.entries[i];
      i = xorOffset === 0 ? -1 : i - xorOffset;
    }
    for (let k = chain.length - 1; k >= 0; k--) {
      const stored = decodeEwah(this.file, this.entries[chain[k]].ewahAt, this.objectCount).bitmap;
      if (base !== undefined) stored.xor(base);
      this.resolved.set(chain[k], stored);
      base = stored;
    }
    return base as Bitmap;
  }
}

/** Bytes the EWAH bitmap at `at` takes, checked against the buffer without decoding it. */
function ewahByteLength(body: Buffer, at: number): number {
  if (body.length - at < 8) throw new CorruptSidecarError('bitmap', `EWAH header truncated at byte ${at}`);
  const length = 8 + 8 * body.readUInt32BE(at + 4) + 4;
  if (length > body.length - at) throw new CorruptSidecarError('bitmap', `EWAH bitmap at byte ${at} runs past the entries`);
  return length;
}
