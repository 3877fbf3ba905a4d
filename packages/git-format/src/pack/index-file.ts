import type { ObjectId } from '../oid.js';

export interface PackIndexEntry {
  oid: ObjectId;
  offset: number;
  crc32: number;
}

/**
 * A parsed `.idx` v2 (fanout table lookup, 64-bit offsets). Also knows where each entry
 * ends (the next entry's offset, or the trailer), which is what lets a stored entry be
 * copied byte for byte.
 */
export declare class PackIndex {
  /** Verifies the idx checksum; PackFormatError when malformed. `packSize` is the .pack's byte length. */
  static parse(idx: Uint8Array, packSize: number): PackIndex;
  readonly objectCount: number;
  /** SHA-1 of the pack, from the idx trailer: the pack's name. */
  readonly packChecksum: ObjectId;
  /** Offset of `oid` in the pack, or undefined. */
  find(oid: ObjectId): number | undefined;
  /** Pack offset where the entry starting at `offset` ends. */
  entryEnd(offset: number): number;
  /** Id of the object whose entry starts at `offset` (for ofs-delta bases). */
  oidAt(offset: number): ObjectId | undefined;
  /** Every entry, in object id order. */
  entries(): Iterable<PackIndexEntry>;
  /** Bytes of memory this index holds (for cache accounting). */
  readonly byteSize: number;
}

/** Writes an `.idx` v2 for a pack's entries (any order) and the pack's trailing checksum. */
export declare function writePackIndex(entries: readonly PackIndexEntry[], packChecksum: ObjectId): Buffer;
