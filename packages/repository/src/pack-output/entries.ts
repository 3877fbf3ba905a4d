import { encodeEntryHeader, type ObjectId, type PackEntryHeader } from '@gitfleet/git-format';
import { CorruptPackError } from '../errors.js';
import { positionOf, type PackSlice } from './plan.js';

/** What the client can take, and what it has: decides which stored deltas stay deltas. */
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

type DeltaHeader = Exclude<PackEntryHeader, { kind: 'object' }>;

/** How one stored entry goes into the outgoing pack. */
export type OutputEntry =
  /** Its compressed bytes as stored, behind `header`: the stored one, or a delta's pointed at where its base is now. */
  | { kind: 'copy'; header: Buffer; delta: boolean }
  /** A delta whose base the client will not have: inflated, resolved and deflated again. */
  | { kind: 'whole' };

export interface OutputEntryRequest {
  slices: readonly PackSlice[];
  slice: PackSlice;
  /** The entry's offset in its stored pack. */
  offset: number;
  /** The stored header, parsed, and its bytes (at least header.headerLength of them). */
  stored: PackEntryHeader;
  storedBytes: Buffer;
  /** Where the entry starts in the outgoing pack. */
  writtenAt: number;
  options: PackStreamOptions;
}

/**
 * Decides how an entry is sent: a whole object as stored; a delta as stored when its base is in
 * this pack (ofs-delta to where the base landed, or ref-delta) or, for a thin pack, on the client;
 * any other delta whole.
 */
export function outputEntry(request: OutputEntryRequest): OutputEntry {
  const { stored, storedBytes } = request;
  if (stored.kind === 'object') return { kind: 'copy', header: Buffer.from(storedBytes.subarray(0, stored.headerLength)), delta: false };
  const header = deltaHeader(request, stored);
  return header ? { kind: 'copy', header, delta: true } : { kind: 'whole' };
}

/** The header a reused delta gets in the outgoing pack, or undefined when its base is not available there. */
function deltaHeader({ slices, slice, offset, writtenAt, options }: OutputEntryRequest, stored: DeltaHeader): Buffer | undefined {
  let baseOid: ObjectId | undefined;
  let baseWrittenAt = -1;
  let baseLaterInSamePack = false;
  if (stored.kind === 'ofs-delta') {
    const position = positionOf(slice, stored.baseOffset);
    if (position >= 0) baseWrittenAt = slice.written[position];
  }
  if (baseWrittenAt < 0) {
    baseOid = baseOidOf(slice, offset, stored);
    if (options.send.has(baseOid)) {
      const placed = findPlaced(slices, slice, baseOid);
      if (placed && placed.slice.written[placed.position] >= 0) baseWrittenAt = placed.slice.written[placed.position];
      // Within one stored pack deltas form no cycle, so a forward reference there is safe.
      else if (placed && placed.slice === slice) baseLaterInSamePack = true;
    }
  }
  if (baseWrittenAt >= 0) {
    if (options.ofsDelta) return encodeEntryHeader({ kind: 'ofs-delta', size: stored.size, distance: writtenAt - baseWrittenAt });
    return encodeEntryHeader({ kind: 'ref-delta', size: stored.size, baseOid: baseOid ?? baseOidOf(slice, offset, stored) });
  }
  if (baseLaterInSamePack || (options.thin && options.clientHas.has(baseOid!))) {
    return encodeEntryHeader({ kind: 'ref-delta', size: stored.size, baseOid: baseOid! });
  }
  return undefined;
}

function baseOidOf(slice: PackSlice, offset: number, header: DeltaHeader): ObjectId {
  if (header.kind === 'ref-delta') return header.baseOid;
  const oid = slice.index.oidAt(header.baseOffset);
  if (oid === undefined)
    throw new CorruptPackError(
      slice.pack,
      `pack ${slice.pack}: ofs-delta at ${offset} points at ${header.baseOffset}, where no entry starts`,
    );
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
