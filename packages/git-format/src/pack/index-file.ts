import { createHash } from 'node:crypto';
import type { ObjectId } from '../oid.js';
import { PackFormatError } from './entry.js';

export interface PackIndexEntry {
  oid: ObjectId;
  offset: number;
  crc32: number;
}

const IDX_MAGIC = 0xff744f63;
const FANOUT_AT = 8;
const OIDS_AT = FANOUT_AT + 256 * 4;
const MAX_SMALL_OFFSET = 0x7fffffff;

/**
 * A parsed `.idx` v2 (fanout table lookup, 64-bit offsets). Also knows where each entry
 * ends (the next entry's offset, or the trailer), which is what lets a stored entry be
 * copied byte for byte.
 *
 * Lookups read the idx bytes in place; the offset-sorted view that entryEnd and oidAt need
 * is built on first use, as two typed arrays (12 bytes per object).
 */
export class PackIndex {
  readonly objectCount: number;
  /** SHA-1 of the pack, from the idx trailer: the pack's name. */
  readonly packChecksum: ObjectId;
  private readonly idx: Buffer;
  private readonly packSize: number;
  private readonly crcsAt: number;
  private readonly offsetsAt: number;
  private readonly largeOffsetsAt: number;
  private readonly largeOffsetCount: number;
  /** Entry offsets in ascending order, followed by the trailer's offset. */
  private sortedOffsets: Float64Array | undefined;
  /** Position in the idx of the entry at sortedOffsets[i]. */
  private positionsByOffset: Uint32Array | undefined;

  private constructor(idx: Buffer, packSize: number) {
    this.idx = idx;
    this.packSize = packSize;
    const count = idx.readUInt32BE(FANOUT_AT + 255 * 4);
    this.objectCount = count;
    this.crcsAt = OIDS_AT + 20 * count;
    this.offsetsAt = this.crcsAt + 4 * count;
    this.largeOffsetsAt = this.offsetsAt + 4 * count;
    const largeBytes = idx.length - 40 - this.largeOffsetsAt;
    if (largeBytes < 0 || largeBytes % 8 !== 0) {
      throw new PackFormatError(`idx of ${idx.length} bytes does not fit its ${count} objects`);
    }
    this.largeOffsetCount = largeBytes / 8;
    this.packChecksum = idx.toString('hex', idx.length - 40, idx.length - 20);
  }

  /** Verifies the idx checksum; PackFormatError when malformed. `packSize` is the .pack's byte length. */
  static parse(idxBytes: Uint8Array, packSize: number): PackIndex {
    const idx = Buffer.from(idxBytes.buffer, idxBytes.byteOffset, idxBytes.byteLength);
    if (idx.length < OIDS_AT + 40) throw new PackFormatError(`idx truncated: ${idx.length} bytes`);
    if (idx.readUInt32BE(0) !== IDX_MAGIC) throw new PackFormatError('not an idx v2: bad signature at offset 0');
    const version = idx.readUInt32BE(4);
    if (version !== 2) throw new PackFormatError(`unsupported idx version ${version} at offset 4`);
    const digest = createHash('sha1')
      .update(idx.subarray(0, idx.length - 20))
      .digest();
    if (!digest.equals(idx.subarray(idx.length - 20))) throw new PackFormatError('idx checksum mismatch');
    let previous = 0;
    for (let b = 0; b < 256; b++) {
      const value = idx.readUInt32BE(FANOUT_AT + 4 * b);
      if (value < previous) throw new PackFormatError(`idx fanout decreases at byte ${b.toString(16)}`);
      previous = value;
    }
    const index = new PackIndex(idx, packSize);
    for (let pos = 0; pos < index.objectCount; pos++) {
      const offset = index.offsetAtPosition(pos);
      if (offset < 12 || offset >= packSize - 20) {
        throw new PackFormatError(`idx entry ${pos} has offset ${offset} outside a pack of ${packSize} bytes`);
      }
    }
    return index;
  }

  /** Offset of `oid` in the pack, or undefined. */
  find(oid: ObjectId): number | undefined {
    if (!parseKey(oid)) return undefined;
    const pos = this.positionOf(lookupKey);
    return pos < 0 ? undefined : this.offsetAtPosition(pos);
  }

  /**
   * Ids starting with `prefix` (hex digits, any case), in id order, at most `limit` of them:
   * a binary search in the sorted id table, for abbreviated ids.
   */
  idsWithPrefix(prefix: string, limit: number): ObjectId[] {
    const hex = prefix.toLowerCase();
    if (!/^[0-9a-f]{1,40}$/.test(hex)) return [];
    // The smallest id with this prefix: the prefix padded with zeros.
    const low = Buffer.from(hex.padEnd(40, '0'), 'hex');
    let lo = low[0] === 0 ? 0 : this.idx.readUInt32BE(FANOUT_AT + 4 * (low[0] - 1));
    let hi = this.idx.readUInt32BE(FANOUT_AT + 4 * low[0]);
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const at = OIDS_AT + 20 * mid;
      // Negative: the id at `mid` sorts before `low`.
      if (this.idx.compare(low, 0, 20, at, at + 20) < 0) lo = mid + 1;
      else hi = mid;
    }
    const found: ObjectId[] = [];
    for (let pos = lo; pos < this.objectCount && found.length < limit; pos++) {
      const at = OIDS_AT + 20 * pos;
      const oid = this.idx.toString('hex', at, at + 20);
      if (!oid.startsWith(hex)) break;
      found.push(oid);
    }
    return found;
  }

  /**
   * Pack offset of the entry at `position` in pack order (offset order); at objectCount, where
   * the last entry ends (the trailer).
   */
  offsetInPackOrder(position: number): number {
    return this.offsetOrder().offsets[position];
  }

  /** Position in pack order of the entry starting at `offset`. */
  positionInPackOrder(offset: number): number {
    const sorted = this.offsetOrder().offsets;
    const i = lowerBound(sorted, this.objectCount, offset);
    if (i >= this.objectCount || sorted[i] !== offset) throw new PackFormatError(`no entry starts at pack offset ${offset}`);
    return i;
  }

  /** Pack offset where the entry starting at `offset` ends. */
  entryEnd(offset: number): number {
    return this.offsetOrder().offsets[this.positionInPackOrder(offset) + 1];
  }

  /** Id of the object whose entry starts at `offset` (for ofs-delta bases). */
  oidAt(offset: number): ObjectId | undefined {
    const { offsets, positions } = this.offsetOrder();
    const i = lowerBound(offsets, this.objectCount, offset);
    if (i >= this.objectCount || offsets[i] !== offset) return undefined;
    const at = OIDS_AT + 20 * positions[i];
    return this.idx.toString('hex', at, at + 20);
  }

  /** The object ids in idx order, 20 bytes each: a view of the idx, for lookups built without a hex string per object. */
  objectIdBytes(): Buffer {
    return this.idx.subarray(OIDS_AT, OIDS_AT + 20 * this.objectCount);
  }

  /** Pack offset of the entry at idx position `position` (object id order). */
  offsetAtIndexPosition(position: number): number {
    if (!(Number.isInteger(position) && position >= 0 && position < this.objectCount))
      throw new RangeError(`idx position ${position} outside ${this.objectCount} objects`);
    return this.offsetAtPosition(position);
  }

  /** Every entry, in object id order. */
  *entries(): Iterable<PackIndexEntry> {
    for (let pos = 0; pos < this.objectCount; pos++) {
      const at = OIDS_AT + 20 * pos;
      yield {
        oid: this.idx.toString('hex', at, at + 20),
        offset: this.offsetAtPosition(pos),
        crc32: this.idx.readUInt32BE(this.crcsAt + 4 * pos),
      };
    }
  }

  /** Every entry, in pack order (ascending offset): the order that reads a pack front to back. */
  *entriesByOffset(): Iterable<PackIndexEntry> {
    const { offsets, positions } = this.offsetOrder();
    for (let i = 0; i < this.objectCount; i++) {
      const pos = positions[i];
      const at = OIDS_AT + 20 * pos;
      yield { oid: this.idx.toString('hex', at, at + 20), offset: offsets[i], crc32: this.idx.readUInt32BE(this.crcsAt + 4 * pos) };
    }
  }

  /** Idx positions in pack order (ascending offset): the pack's reverse index, a copy of the order lookups use. */
  indexPositionsInPackOrder(): Uint32Array {
    return this.offsetOrder().positions.slice();
  }

  /** Bytes of memory this index holds (for cache accounting). */
  get byteSize(): number {
    return this.idx.length + (this.sortedOffsets?.byteLength ?? 0) + (this.positionsByOffset?.byteLength ?? 0);
  }

  private positionOf(key: Buffer): number {
    const first = key[0];
    let lo = first === 0 ? 0 : this.idx.readUInt32BE(FANOUT_AT + 4 * (first - 1));
    let hi = this.idx.readUInt32BE(FANOUT_AT + 4 * first);
    const idx = this.idx;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const at = OIDS_AT + 20 * mid;
      let cmp = 0;
      for (let k = 1; k < 20; k++) {
        cmp = idx[at + k] - key[k];
        if (cmp !== 0) break;
      }
      if (cmp === 0) return mid;
      if (cmp < 0) lo = mid + 1;
      else hi = mid;
    }
    return -1;
  }

  private offsetAtPosition(pos: number): number {
    const small = this.idx.readUInt32BE(this.offsetsAt + 4 * pos);
    if (small <= MAX_SMALL_OFFSET) return small;
    const large = small & MAX_SMALL_OFFSET;
    if (large >= this.largeOffsetCount) throw new PackFormatError(`idx entry ${pos} refers to missing 64-bit offset ${large}`);
    const at = this.largeOffsetsAt + 8 * large;
    return this.idx.readUInt32BE(at) * 2 ** 32 + this.idx.readUInt32BE(at + 4);
  }

  private offsetOrder(): { offsets: Float64Array; positions: Uint32Array } {
    if (this.sortedOffsets === undefined || this.positionsByOffset === undefined) {
      const count = this.objectCount;
      const byPosition = new Float64Array(count);
      for (let pos = 0; pos < count; pos++) byPosition[pos] = this.offsetAtPosition(pos);
      const positions = sortPositionsByOffset(byPosition, this.packSize);
      const offsets = new Float64Array(count + 1);
      for (let i = 0; i < count; i++) offsets[i] = byPosition[positions[i]];
      offsets[count] = this.packSize - 20;
      this.sortedOffsets = offsets;
      this.positionsByOffset = positions;
    }
    return { offsets: this.sortedOffsets, positions: this.positionsByOffset };
  }
}

/** Reused for every lookup: find() is hot and its key never outlives the call. */
const lookupKey = Buffer.alloc(20);

/** Fills lookupKey from 40 hex digits; false for anything else. Faster than Buffer#write for one id. */
function parseKey(oid: string): boolean {
  if (oid.length !== 40) return false;
  for (let i = 0; i < 20; i++) {
    const hi = hexValue(oid.charCodeAt(2 * i));
    const lo = hexValue(oid.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) return false;
    lookupKey[i] = (hi << 4) | lo;
  }
  return true;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Idx positions ordered by pack offset: when every offset fits 32 bits (any pack under
 * 4 GiB), an LSD radix sort of (offset, position) pairs on three 11-bit digits, which
 * touches memory in order and runs many times faster than a comparator sort.
 */
export function sortPositionsByOffset(byPosition: Float64Array, packSize: number): Uint32Array {
  const count = byPosition.length;
  let positions = new Uint32Array(count);
  for (let pos = 0; pos < count; pos++) positions[pos] = pos;
  if (packSize > 2 ** 32) return positions.sort((a, b) => byPosition[a] - byPosition[b]);
  let keys = Uint32Array.from(byPosition);
  let nextKeys = new Uint32Array(count);
  let nextPositions = new Uint32Array(count);
  const counts = new Uint32Array(2048);
  for (const shift of [0, 11, 22]) {
    counts.fill(0);
    for (let i = 0; i < count; i++) counts[(keys[i] >>> shift) & 0x7ff]++;
    let sum = 0;
    for (let d = 0; d < 2048; d++) {
      const c = counts[d];
      counts[d] = sum;
      sum += c;
    }
    for (let i = 0; i < count; i++) {
      const key = keys[i];
      const at = counts[(key >>> shift) & 0x7ff]++;
      nextKeys[at] = key;
      nextPositions[at] = positions[i];
    }
    [keys, nextKeys] = [nextKeys, keys];
    [positions, nextPositions] = [nextPositions, positions];
  }
  return positions;
}

function lowerBound(sorted: Float64Array, count: number, value: number): number {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The byte length of an idx v2 of `objectCount` objects without a table of 64-bit offsets (which a pack under 2 GiB does not need). */
export function packIndexSize(objectCount: number): number {
  return OIDS_AT + 28 * objectCount + 40;
}

/**
 * What an idx v2 without 64-bit offsets holds beyond its pack's name: the object ids, CRC-32s and
 * offsets, 28 bytes per object, then the idx's own checksum. The header and fanout follow from
 * them (packIndexFromTables), so these tables are the idx in the fewest bytes, still checked
 * against its checksum when parsed.
 */
export function packIndexTables(idx: Uint8Array): Buffer {
  const bytes = Buffer.from(idx.buffer, idx.byteOffset, idx.byteLength);
  if (bytes.length < OIDS_AT + 40) throw new PackFormatError(`idx truncated: ${bytes.length} bytes`);
  const count = bytes.readUInt32BE(FANOUT_AT + 255 * 4);
  if (bytes.length !== packIndexSize(count)) {
    throw new PackFormatError(`idx of ${bytes.length} bytes for ${count} objects has a table of 64-bit offsets or does not fit them`);
  }
  return Buffer.concat([bytes.subarray(OIDS_AT, OIDS_AT + 28 * count), bytes.subarray(bytes.length - 20)]);
}

/** The idx v2 of the pack named `packChecksum` whose tables (as packIndexTables gives them) are `tables`. */
export function packIndexFromTables(tables: Uint8Array, packChecksum: ObjectId): Buffer {
  if (tables.length < 20 || (tables.length - 20) % 28 !== 0) {
    throw new PackFormatError(`idx tables of ${tables.length} bytes are not 28 bytes per object and a checksum`);
  }
  if (!/^[0-9a-f]{40}$/.test(packChecksum)) throw new RangeError(`invalid pack checksum ${packChecksum}`);
  const count = (tables.length - 20) / 28;
  const out = Buffer.alloc(packIndexSize(count));
  out.set(tables.subarray(0, 28 * count), OIDS_AT);
  const fanout = new Uint32Array(256);
  for (let pos = 0; pos < count; pos++) {
    if (pos > 0 && compareOids(tables, 20 * (pos - 1), tables, 20 * pos) >= 0) {
      throw new PackFormatError(`idx tables: object ${pos} is not after object ${pos - 1} in id order`);
    }
    fanout[tables[20 * pos]]++;
  }
  writeHeaderAndFanout(out, fanout);
  const trailerAt = OIDS_AT + 28 * count;
  out.write(packChecksum, trailerAt, 'hex');
  out.set(tables.subarray(28 * count), trailerAt + 20);
  return out;
}

/** Writes an `.idx` v2 for a pack's entries (any order) and the pack's trailing checksum. */
export function writePackIndex(entries: readonly PackIndexEntry[], packChecksum: ObjectId): Buffer {
  const count = entries.length;
  const oids = Buffer.alloc(20 * count);
  const offsets = new Float64Array(count);
  const crcs = new Uint32Array(count);
  entries.forEach((entry, i) => {
    if (!/^[0-9a-f]{40}$/.test(entry.oid)) throw new RangeError(`invalid object id ${entry.oid}`);
    oids.write(entry.oid, 20 * i, 'hex');
    offsets[i] = entry.offset;
    crcs[i] = entry.crc32;
  });
  if (!/^[0-9a-f]{40}$/.test(packChecksum)) throw new RangeError(`invalid pack checksum ${packChecksum}`);
  return encodePackIndex(oids, offsets, crcs, count, Buffer.from(packChecksum, 'hex'));
}

/**
 * The `.idx` v2 bytes for `count` entries held column-wise (20-byte ids, offsets, CRCs):
 * the indexer's own tables, so that a large pack needs no per-object JS objects.
 */
export function encodePackIndex(
  oids: Uint8Array,
  offsets: Float64Array,
  crcs: Uint32Array,
  count: number,
  packChecksum: Uint8Array,
): Buffer {
  const order = sortByObjectId(oids, count);
  let largeCount = 0;
  for (let i = 0; i < count; i++) if (offsets[i] > MAX_SMALL_OFFSET) largeCount++;
  const out = Buffer.alloc(packIndexSize(count) + 8 * largeCount);
  const fanout = new Uint32Array(256);
  const crcsAt = OIDS_AT + 20 * count;
  const offsetsAt = crcsAt + 4 * count;
  let largeAt = offsetsAt + 4 * count;
  let largeIndex = 0;
  for (let pos = 0; pos < count; pos++) {
    const i = order[pos];
    const from = 20 * i;
    if (pos > 0 && compareOids(oids, from, oids, 20 * order[pos - 1]) === 0) {
      throw new PackFormatError(`object ${Buffer.from(oids.subarray(from, from + 20)).toString('hex')} appears twice in the pack`);
    }
    out.set(oids.subarray(from, from + 20), OIDS_AT + 20 * pos);
    fanout[oids[from]]++;
    out.writeUInt32BE(crcs[i], crcsAt + 4 * pos);
    const offset = offsets[i];
    if (offset > MAX_SMALL_OFFSET) {
      out.writeUInt32BE((0x80000000 | largeIndex++) >>> 0, offsetsAt + 4 * pos);
      out.writeUInt32BE(Math.floor(offset / 2 ** 32), largeAt);
      out.writeUInt32BE(offset % 2 ** 32, largeAt + 4);
      largeAt += 8;
    } else {
      out.writeUInt32BE(offset, offsetsAt + 4 * pos);
    }
  }
  writeHeaderAndFanout(out, fanout);
  out.set(packChecksum, largeAt);
  createHash('sha1')
    .update(out.subarray(0, largeAt + 20))
    .digest()
    .copy(out, largeAt + 20);
  return out;
}

/** An idx v2's signature and version, and its fanout table from `fanout`, the count of ids per first byte. */
function writeHeaderAndFanout(out: Buffer, fanout: Uint32Array): void {
  out.writeUInt32BE(IDX_MAGIC, 0);
  out.writeUInt32BE(2, 4);
  let running = 0;
  for (let b = 0; b < 256; b++) {
    running += fanout[b];
    out.writeUInt32BE(running, FANOUT_AT + 4 * b);
  }
}

function compareOids(a: Uint8Array, aAt: number, b: Uint8Array, bAt: number): number {
  for (let k = 0; k < 20; k++) {
    const d = a[aAt + k] - b[bAt + k];
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Below this many entries a comparison sort is cheaper than the counting sort's 65,536 buckets
 * (a push of a few objects would walk and allocate them all).
 */
const COUNTING_SORT_MIN_ENTRIES = 4096;

/** Entry numbers in object id order: a counting sort on the first two bytes, then a comparison sort per bucket. */
function sortByObjectId(oids: Uint8Array, count: number): Uint32Array {
  if (count < COUNTING_SORT_MIN_ENTRIES) {
    const order = new Uint32Array(count);
    for (let i = 0; i < count; i++) order[i] = i;
    return order.sort((x, y) => compareOids(oids, 20 * x, oids, 20 * y));
  }
  const bucketStarts = new Uint32Array(65537);
  for (let i = 0; i < count; i++) bucketStarts[((oids[20 * i] << 8) | oids[20 * i + 1]) + 1]++;
  for (let b = 1; b <= 65536; b++) bucketStarts[b] += bucketStarts[b - 1];
  const order = new Uint32Array(count);
  const fill = bucketStarts.slice(0, 65536);
  for (let i = 0; i < count; i++) order[fill[(oids[20 * i] << 8) | oids[20 * i + 1]]++] = i;
  for (let b = 0; b < 65536; b++) {
    const from = bucketStarts[b];
    const to = bucketStarts[b + 1];
    if (to - from > 1) order.subarray(from, to).sort((x, y) => compareOids(oids, 20 * x, oids, 20 * y));
  }
  return order;
}
