import type { ObjectId, ObjectType } from '../oid.js';

/** Pack entry type codes (gitformat-pack). */
export const PACK_TYPE = { commit: 1, tree: 2, blob: 3, tag: 4, ofsDelta: 6, refDelta: 7 } as const;

export type PackEntryHeader =
  | { kind: 'object'; type: ObjectType; size: number; headerLength: number }
  /** `baseOffset` is absolute (entry offset minus the encoded distance). */
  | { kind: 'ofs-delta'; size: number; headerLength: number; baseOffset: number }
  | { kind: 'ref-delta'; size: number; headerLength: number; baseOid: ObjectId };

/** Thrown for bytes that are not a well-formed pack (bad header, entry, checksum, delta). */
export class PackFormatError extends Error {
  override name = 'PackFormatError';
}

const TYPE_BY_CODE: readonly (ObjectType | undefined)[] = [undefined, 'commit', 'tree', 'blob', 'tag'];

/** The object type a pack type code stands for, or undefined for deltas and invalid codes. */
export function objectTypeOfCode(code: number): ObjectType | undefined {
  return TYPE_BY_CODE[code];
}

/** Longest header worth reading ahead for: a 64-bit size varint (10 bytes) plus a 20-byte base id. */
export const MAX_ENTRY_HEADER_LENGTH = 32;

/** Sizes past 2^53 cannot be represented exactly; no real object comes near. */
const MAX_VARINT_SHIFT = 49;

/** Parses the entry header found at `buf[at]`, for an entry that starts at pack offset `entryOffset`. */
export function parseEntryHeader(buf: Uint8Array, at: number, entryOffset: number): PackEntryHeader {
  let p = at;
  const truncated = (): never => {
    throw new PackFormatError(`truncated entry header at offset ${entryOffset}`);
  };
  if (p >= buf.length) truncated();
  let byte = buf[p++];
  const code = (byte >> 4) & 7;
  let size = byte & 0x0f;
  let shift = 4;
  while (byte & 0x80) {
    if (p >= buf.length) truncated();
    if (shift > MAX_VARINT_SHIFT) throw new PackFormatError(`entry size varint too long at offset ${entryOffset}`);
    byte = buf[p++];
    size += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  }
  if (code === PACK_TYPE.ofsDelta) {
    if (p >= buf.length) truncated();
    byte = buf[p++];
    let distance = byte & 0x7f;
    while (byte & 0x80) {
      if (p >= buf.length) truncated();
      // Each continuation adds one before shifting, so that no distance has two encodings.
      distance = (distance + 1) * 128;
      if (distance > Number.MAX_SAFE_INTEGER / 256) throw new PackFormatError(`ofs-delta distance too long at offset ${entryOffset}`);
      byte = buf[p++];
      distance += byte & 0x7f;
    }
    const baseOffset = entryOffset - distance;
    if (distance === 0 || baseOffset < 12) {
      throw new PackFormatError(`ofs-delta at offset ${entryOffset} points outside the pack (distance ${distance})`);
    }
    return { kind: 'ofs-delta', size, headerLength: p - at, baseOffset };
  }
  if (code === PACK_TYPE.refDelta) {
    if (p + 20 > buf.length) truncated();
    const baseOid = Buffer.from(buf.buffer, buf.byteOffset + p, 20).toString('hex');
    return { kind: 'ref-delta', size, headerLength: p + 20 - at, baseOid };
  }
  const type = TYPE_BY_CODE[code];
  if (type === undefined) throw new PackFormatError(`invalid entry type ${code} at offset ${entryOffset}`);
  return { kind: 'object', type, size, headerLength: p - at };
}

/** Encodes an entry header; for an ofs-delta pass the distance back to the base entry. */
export function encodeEntryHeader(
  header:
    | { kind: 'object'; type: ObjectType; size: number }
    | { kind: 'ofs-delta'; size: number; distance: number }
    | { kind: 'ref-delta'; size: number; baseOid: ObjectId },
): Buffer {
  const code = header.kind === 'object' ? PACK_TYPE[header.type] : header.kind === 'ofs-delta' ? PACK_TYPE.ofsDelta : PACK_TYPE.refDelta;
  if (!Number.isSafeInteger(header.size) || header.size < 0) throw new RangeError(`invalid entry size ${header.size}`);
  const bytes: number[] = [];
  let size = header.size;
  let byte = (code << 4) | (size & 0x0f);
  size = Math.floor(size / 16);
  while (size > 0) {
    bytes.push(byte | 0x80);
    byte = size & 0x7f;
    size = Math.floor(size / 128);
  }
  bytes.push(byte);
  if (header.kind === 'ofs-delta') {
    let distance = header.distance;
    if (!Number.isSafeInteger(distance) || distance <= 0) throw new RangeError(`invalid ofs-delta distance ${distance}`);
    const tail = [distance & 0x7f];
    distance = Math.floor(distance / 128);
    while (distance > 0) {
      distance -= 1;
      tail.unshift(0x80 | (distance & 0x7f));
      distance = Math.floor(distance / 128);
    }
    bytes.push(...tail);
    return Buffer.from(bytes);
  }
  if (header.kind === 'ref-delta') {
    if (!/^[0-9a-f]{40}$/.test(header.baseOid)) throw new RangeError(`invalid base object id ${header.baseOid}`);
    return Buffer.concat([Buffer.from(bytes), Buffer.from(header.baseOid, 'hex')]);
  }
  return Buffer.from(bytes);
}

/** The 12-byte pack header: "PACK", version 2, object count. */
export function encodePackHeader(objectCount: number): Buffer {
  if (!Number.isInteger(objectCount) || objectCount < 0 || objectCount > 0xffffffff)
    throw new RangeError(`invalid object count ${objectCount}`);
  const header = Buffer.alloc(12);
  header.write('PACK', 0, 'latin1');
  header.writeUInt32BE(2, 4);
  header.writeUInt32BE(objectCount, 8);
  return header;
}

export function parsePackHeader(buf: Uint8Array): { version: number; objectCount: number } {
  if (buf.length < 12) throw new PackFormatError(`pack header truncated: ${buf.length} of 12 bytes`);
  if (buf[0] !== 0x50 || buf[1] !== 0x41 || buf[2] !== 0x43 || buf[3] !== 0x4b) {
    throw new PackFormatError('not a pack: the signature at offset 0 is not "PACK"');
  }
  const view = new DataView(buf.buffer, buf.byteOffset, 12);
  const version = view.getUint32(4);
  if (version !== 2 && version !== 3) throw new PackFormatError(`unsupported pack version ${version} at offset 4`);
  return { version, objectCount: view.getUint32(8) };
}
