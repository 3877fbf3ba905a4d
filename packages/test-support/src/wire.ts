// Just enough of git's wire formats to hand-craft requests the real git never sends.
// Written independently of @gitfleet/git-format so the suite does not test the server's
// code with itself.
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';

export const FLUSH = Buffer.from('0000');
export const DELIM = Buffer.from('0001');

export function pkt(payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  return Buffer.concat([Buffer.from((body.length + 4).toString(16).padStart(4, '0')), body]);
}

export type Packet = { kind: 'data'; data: Buffer } | { kind: 'flush' } | { kind: 'delim' } | { kind: 'response-end' };

/** Splits a response into pkt-lines; a malformed length stops the split and is reported. */
export function parsePackets(bytes: Buffer): Packet[] {
  const packets: Packet[] = [];
  let at = 0;
  while (at + 4 <= bytes.length) {
    const length = parseInt(bytes.subarray(at, at + 4).toString('latin1'), 16);
    if (Number.isNaN(length)) throw new Error(`bad pkt-line length at offset ${at}: ${bytes.subarray(at, at + 4).toString('latin1')}`);
    if (length === 0) packets.push({ kind: 'flush' });
    else if (length === 1) packets.push({ kind: 'delim' });
    else if (length === 2) packets.push({ kind: 'response-end' });
    else packets.push({ kind: 'data', data: bytes.subarray(at + 4, at + length) });
    at += length < 4 ? 4 : length;
  }
  return packets;
}

/** The text of every data packet, trailing newline removed. */
export function packetLines(bytes: Buffer): string[] {
  return parsePackets(bytes).flatMap((p) => (p.kind === 'data' ? [p.data.toString('latin1').replace(/\n$/, '')] : []));
}

export type ObjectType = 'commit' | 'tree' | 'blob' | 'tag';
const TYPE_CODES: Record<ObjectType, number> = { commit: 1, tree: 2, blob: 3, tag: 4 };
const OFS_DELTA = 6;

export function objectId(type: ObjectType, body: Buffer): string {
  return createHash('sha1').update(`${type} ${body.length}\0`).update(body).digest('hex');
}

/** One pack entry; `declaredSize` lies about the inflated size when set. */
export type PackEntry = { type: ObjectType; body: Buffer; declaredSize?: number } | { ofsDeltaOf: number; delta: Buffer };

function entryHeader(typeCode: number, size: number): Buffer {
  const bytes: number[] = [];
  let rest = Math.floor(size / 16);
  let byte = (typeCode << 4) | (size % 16);
  while (rest > 0) {
    bytes.push(byte | 0x80);
    byte = rest % 128;
    rest = Math.floor(rest / 128);
  }
  bytes.push(byte);
  return Buffer.from(bytes);
}

function ofsDeltaOffset(distance: number): Buffer {
  const bytes = [distance & 0x7f];
  let rest = distance >>> 7;
  while (rest > 0) {
    rest -= 1;
    bytes.unshift(0x80 | (rest & 0x7f));
    rest >>>= 7;
  }
  return Buffer.from(bytes);
}

/** A version 2 pack of the entries, with a correct trailer. */
export function buildPack(entries: PackEntry[]): Buffer {
  const header = Buffer.alloc(12);
  header.write('PACK', 0, 'latin1');
  header.writeUInt32BE(2, 4);
  header.writeUInt32BE(entries.length, 8);
  const parts: Buffer[] = [header];
  const offsets: number[] = [];
  let offset = header.length;
  for (const entry of entries) {
    offsets.push(offset);
    let encoded: Buffer;
    if ('ofsDeltaOf' in entry) {
      encoded = Buffer.concat([
        entryHeader(OFS_DELTA, entry.delta.length),
        ofsDeltaOffset(offset - offsets[entry.ofsDeltaOf]),
        deflateSync(entry.delta),
      ]);
    } else {
      encoded = Buffer.concat([entryHeader(TYPE_CODES[entry.type], entry.declaredSize ?? entry.body.length), deflateSync(entry.body)]);
    }
    parts.push(encoded);
    offset += encoded.length;
  }
  return withTrailer(Buffer.concat(parts));
}

/** Appends (or, given a whole pack, replaces) the SHA-1 trailer. */
export function withTrailer(packWithoutTrailer: Buffer): Buffer {
  return Buffer.concat([packWithoutTrailer, createHash('sha1').update(packWithoutTrailer).digest()]);
}

export function sizeVarint(size: number): Buffer {
  const bytes: number[] = [];
  let rest = size;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    bytes.push(byte);
  } while (rest > 0);
  return Buffer.from(bytes);
}

/**
 * A delta that copies `chunk` bytes from the start of its base `times` times: its result
 * is `chunk * times` bytes however small the delta is, the way a delta bomb is made.
 */
export function expandingDelta(baseSize: number, chunk: number, times: number): Buffer {
  if (chunk > 0xffffff) throw new Error('a copy instruction copies at most 16 MiB');
  const copy = Buffer.from([0x80 | 0x10 | 0x20 | 0x40, chunk & 0xff, (chunk >> 8) & 0xff, (chunk >> 16) & 0xff]);
  return Buffer.concat([sizeVarint(baseSize), sizeVarint(chunk * times), Buffer.concat(new Array<Buffer>(times).fill(copy))]);
}

export const ZERO_ID = '0'.repeat(40);

/** A receive-pack request: commands with capabilities on the first, then the pack. */
export function receivePackRequest(commands: { old: string; new: string; ref: string }[], capabilities: string[], pack?: Buffer): Buffer {
  const lines = commands.map((c, i) => pkt(`${c.old} ${c.new} ${c.ref}${i === 0 ? `\0${capabilities.join(' ')}` : ''}\n`));
  return Buffer.concat([...lines, FLUSH, ...(pack ? [pack] : [])]);
}
