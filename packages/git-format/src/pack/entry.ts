import type { ObjectId, ObjectType } from '../oid.js';

/** Pack entry type codes (gitformat-pack). */
export const PACK_TYPE = { commit: 1, tree: 2, blob: 3, tag: 4, ofsDelta: 6, refDelta: 7 } as const;

export type PackEntryHeader =
  | { kind: 'object'; type: ObjectType; size: number; headerLength: number }
  /** `baseOffset` is absolute (entry offset minus the encoded distance). */
  | { kind: 'ofs-delta'; size: number; headerLength: number; baseOffset: number }
  | { kind: 'ref-delta'; size: number; headerLength: number; baseOid: ObjectId };

/** Thrown for bytes that are not a well-formed pack (bad header, entry, checksum, delta). */
export declare class PackFormatError extends Error {}

/** Parses the entry header found at `buf[at]`, for an entry that starts at pack offset `entryOffset`. */
export declare function parseEntryHeader(buf: Uint8Array, at: number, entryOffset: number): PackEntryHeader;

/** Encodes an entry header; for an ofs-delta pass the distance back to the base entry. */
export declare function encodeEntryHeader(
  header: { kind: 'object'; type: ObjectType; size: number } | { kind: 'ofs-delta'; size: number; distance: number } | { kind: 'ref-delta'; size: number; baseOid: ObjectId },
): Buffer;

/** The 12-byte pack header: "PACK", version 2, object count. */
export declare function encodePackHeader(objectCount: number): Buffer;
export declare function parsePackHeader(buf: Uint8Array): { version: number; objectCount: number };
