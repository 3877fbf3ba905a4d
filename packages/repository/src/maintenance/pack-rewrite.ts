import { promisify } from 'node:util';
import { inflate } from 'node:zlib';
import {
  encodeEntryHeader,
  encodePackIndex,
  MAX_ENTRY_HEADER_LENGTH,
  PACK_TYPE,
  parseEntryHeader,
  type ObjectId,
  type PackEntryHeader,
  type PackIndex,
} from '@gitfleet/git-format';
import { CorruptPackError, MissingObjectError } from '../errors.js';
import { LoopPacer } from '../loop-pacer.js';
import { PackObjectReader } from '../object-reader.js';
import { OidSet } from '../oid-set.js';
import type { PackAccess } from '../pack-access.js';
import { SpanCursor } from '../pack-output/span-cursor.js';
import { deflateEntryData, SPAN_GAP, wholeEntry } from '../pack-output/write.js';
import { composeDeltas } from './delta-compose.js';
import { PackFileWriter } from './pack-file-writer.js';
import type { ObjectSelection } from './selection.js';

/** git's default `--depth`: reused deltas never make a longer chain than `git repack` would. */
export const MAX_REWRITE_DELTA_DEPTH = 50;
/**
 * Runs up to this size are read through the block cache, longer ones streamed: an order that
 * is not the stored one (clone order out of a pack in another order, bases moved ahead) makes
 * many short runs, and a stream for each would cost a store request (a file opened) apiece.
 */
const CACHED_RUN_BYTES = 256 * 1024;
const PROGRESS_STEP = 1000;
const OID_BYTES = 20;

const inflateAsync = promisify(inflate);

/** Object ids in pack order (entry i of the pack), their types and offsets: what .rev and bitmaps index. */
export interface PackOrder {
  count: number;
  /** 20-byte ids, entry i at [20 i, 20 i + 20). */
  oids: Uint8Array;
  /** The type of each entry's object (a delta's too) as its pack type code: PACK_TYPE.commit, .tree, .blob or .tag. */
  types: Uint8Array;
  offsets: Float64Array;
  /** The length of each entry's delta chain: 0 for a whole object. */
  depths: Uint8Array;
}

export interface WrittenPack {
  /** Local file holding the new pack (the caller stores it with PackAccess.add and deletes the file). */
  path: string;
  size: number;
  checksum: ObjectId;
  /** The .idx v2 of the new pack. */
  idx: Buffer;
  objectCount: number;
  order: PackOrder;
  stats: RewriteStats;
}

/** How the entries of a rewritten pack were made. */
export interface RewriteStats {
  /** Whole objects copied as stored. */
  copiedObjects: number;
  /** Deltas copied as stored, pointed at where their base now is. */
  copiedDeltas: number;
  /** Deltas copied as stored whose base is in the pack of RewriteOptions.deltaBasesIn, named by id (ref-deltas). */
  deltasOnOtherPack: number;
  /** Deltas whose base is not in the pack, written against the base's base (the two deltas composed). */
  composedDeltas: number;
  /** Objects resolved and deflated afresh: deltas whose base (and its base) is not in the pack, or whose chain would be too deep. */
  recompressed: number;
}

export interface RewriteOptions {
  /** Where to write the pack; deleted again if the rewrite fails. */
  path: string;
  /**
   * A pack written before this one and published with it (a full repack's clone pack), whose
   * objects a delta of this pack may keep as its base: copied as a ref-delta, so that the new
   * pack is read with that one. Without it, every pack written holds the bases of its deltas.
   */
  deltaBasesIn?: PackOrder;
  onProgress?(done: number, total: number): void;
  signal?: AbortSignal;
}

const PENDING = 0;
const IN_PROGRESS = 1;
const WRITTEN = 2;

/**
 * Writes a pack holding exactly `objects` (each once; order kept except where a delta's base must
 * come first), copying stored entries as they are: whole objects with their deflated bytes,
 * deltas too when their base is in the new pack (as ofs-deltas pointed at where the base now
 * is, the base moved ahead of the delta when it came later). A delta whose base is left out
 * but whose base's base is in becomes a delta against that one, the two stored deltas composed.
 * Only a delta left without either, whose chain would grow deeper than MAX_REWRITE_DELTA_DEPTH,
 * or whose bases form a cycle across packs is resolved and deflated afresh, whole.
 *
 * Runs of entries that lie close together in one stored pack are read as one stream (short ones
 * through the block cache); memory stays at a few stream chunks, one output piece and under
 * 100 bytes of bookkeeping per object (the id set, the new pack's tables). An object written
 * whole is resolved in memory, as PackObjectReader reads it.
 */
export async function rewritePack(packs: PackAccess, objects: ObjectSelection, options: RewriteOptions): Promise<WrittenPack> {
  const indexes = await Promise.all(objects.packs.map((pack) => packs.index(pack)));
  const unique = uniqueObjects(objects);
  const writer = await PackFileWriter.create(options.path, unique.count);
  try {
    const rewriter = new PackRewriter(packs, objects, indexes, unique, writer, options);
    await rewriter.writeAll();
    const { size, checksum } = await writer.finish();
    const { order, crcs, stats } = rewriter;
    const idx = encodePackIndex(order.oids, order.offsets, crcs, order.count, Buffer.from(checksum, 'hex'));
    return { path: options.path, size, checksum, idx, objectCount: order.count, order, stats };
  } catch (error) {
    await writer.abandon();
    throw error;
  }
}

interface UniqueObjects {
  count: number;
  /** Entry numbers of the selection's ids, first occurrences only: entry e is the e-th distinct object. */
  ids: OidSet;
  /** The selection index of distinct object e (its first occurrence). */
  selected: Uint32Array;
}

function uniqueObjects(objects: ObjectSelection): UniqueObjects {
  const ids = new OidSet(objects.count);
  const selected = new Uint32Array(objects.count);
  let count = 0;
  for (let i = 0; i < objects.count; i++) {
    if (ids.addBytes(objects.oids, OID_BYTES * i) >= 0) selected[count++] = i;
  }
  return { count, ids, selected: selected.subarray(0, count) };
}

type DeltaHeader = Exclude<PackEntryHeader, { kind: 'object' }>;

/** A stored delta being written: its header, its base, and the cursor over its data [dataStart, end). */
interface StoredDelta {
  baseOid: ObjectId;
  stored: DeltaHeader;
  cursor: SpanCursor;
  dataStart: number;
  end: number;
}

/** A stored delta's data, inflated; the declared size bounds the output. */
async function inflateDelta(deflated: Buffer, size: number, pack: string, offset: number): Promise<Buffer> {
  let data: Buffer;
  try {
    data = await inflateAsync(deflated, { maxOutputLength: Math.max(size, 1) });
  } catch (error) {
    throw new CorruptPackError(pack, `pack ${pack}: delta data at ${offset} does not inflate: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (data.length !== size)
    throw new CorruptPackError(pack, `pack ${pack}: delta data at ${offset} inflates to ${data.length} bytes, header says ${size}`);
  return data;
}

/** The state of one rewrite: where each distinct object went, and the new pack's tables. */
class PackRewriter {
  readonly order: PackOrder;
  readonly crcs: Uint32Array;
  readonly stats: RewriteStats = { copiedObjects: 0, copiedDeltas: 0, deltasOnOtherPack: 0, composedDeltas: 0, recompressed: 0 };
  private readonly state: Uint8Array;
  private readonly writtenAt: Float64Array;
  private readonly depth: Uint8Array;
  /** Type code of distinct object e, once written (a delta's base type is known by then). */
  private readonly typeOf: Uint8Array;
  private readonly reader: PackObjectReader;
  private readonly pacer = new LoopPacer();
  /** The ids of RewriteOptions.deltaBasesIn, entry i its entry i; made at its first use. */
  private basePositions: OidSet | undefined;
  private lastProgress = 0;

  constructor(
    private readonly packs: PackAccess,
    private readonly objects: ObjectSelection,
    private readonly indexes: readonly PackIndex[],
    private readonly unique: UniqueObjects,
    private readonly writer: PackFileWriter,
    private readonly options: RewriteOptions,
  ) {
    const n = unique.count;
    this.order = {
      count: 0,
      oids: new Uint8Array(OID_BYTES * n),
      types: new Uint8Array(n),
      offsets: new Float64Array(n),
      depths: new Uint8Array(n),
    };
    this.crcs = new Uint32Array(n);
    this.state = new Uint8Array(n);
    this.writtenAt = new Float64Array(n);
    this.depth = new Uint8Array(n);
    this.typeOf = new Uint8Array(n);
    this.reader = new PackObjectReader(packs);
  }

  /** Writes every distinct object, run by run of entries that one stream of a stored pack can serve. */
  async writeAll(): Promise<void> {
    const { count } = this.unique;
    for (let first = 0; first < count;) {
      const last = this.runEnd(first);
      if (this.allWritten(first, last)) {
        first = last + 1;
        continue;
      }
      const cursor = await this.openCursor(first, last);
      try {
        for (let e = first; e <= last; e++) {
          if (this.state[e] === PENDING) await this.writeObject(e, cursor, 0);
          await this.pacer.step();
          this.options.signal?.throwIfAborted();
        }
      } finally {
        await cursor.close();
      }
      first = last + 1;
    }
    if (this.order.count !== count) throw new Error(`rewriting a pack: ${this.order.count} entries written, ${count} expected`);
    this.options.onProgress?.(count, count);
  }

  /** Whether distinct objects first..last were all written already (as bases moved ahead). */
  private allWritten(first: number, last: number): boolean {
    for (let e = first; e <= last; e++) if (this.state[e] !== WRITTEN) return false;
    return true;
  }

  /** The last distinct object of the run starting at `first`: following entries of the same pack, each close after the one before. */
  private runEnd(first: number): number {
    const { objects } = this;
    const { selected, count } = this.unique;
    const pack = objects.packNumbers[selected[first]];
    const index = this.indexes[pack];
    let last = first;
    while (last + 1 < count) {
      const next = selected[last + 1];
      if (objects.packNumbers[next] !== pack) break;
      const previousEnd = index.entryEnd(objects.offsets[selected[last]]);
      const gap = objects.offsets[next] - previousEnd;
      if (gap < 0 || gap > SPAN_GAP) break;
      last++;
    }
    return last;
  }

  /** A cursor over the stored bytes of distinct objects first..last (one stored pack, ascending offsets). */
  private async openCursor(first: number, last: number): Promise<SpanCursor> {
    const { objects } = this;
    const { selected } = this.unique;
    const packNumber = objects.packNumbers[selected[first]];
    const pack = objects.packs[packNumber];
    const start = objects.offsets[selected[first]];
    const end = this.indexes[packNumber].entryEnd(objects.offsets[selected[last]]);
    if (end - start <= CACHED_RUN_BYTES) {
      const packs = this.packs;
      return new SpanCursor(
        (async function* () {
          yield await packs.read(pack, start, end);
        })(),
        start,
        pack,
      );
    }
    return new SpanCursor(await this.packs.stream(pack, start, end), start, pack);
  }

  /**
   * Writes distinct object `e`, whose stored entry `cursor` reads (or, when undefined, a cursor
   * of its own). A delta's base not written yet is written first, `nesting` levels down.
   */
  private async writeObject(e: number, cursor: SpanCursor | undefined, nesting: number): Promise<void> {
    const { objects } = this;
    const i = this.unique.selected[e];
    const offset = objects.offsets[i];
    const index = this.indexes[objects.packNumbers[i]];
    const end = index.entryEnd(offset);
    const reader = cursor ?? (await this.openCursor(e, e));
    try {
      const head = await reader.bytes(offset, Math.min(MAX_ENTRY_HEADER_LENGTH, end - offset));
      const stored = parseEntryHeader(head, 0, offset);
      this.state[e] = IN_PROGRESS;
      if (stored.kind === 'object') {
        await this.copy(e, reader, head.subarray(0, stored.headerLength), offset + stored.headerLength, end, PACK_TYPE[stored.type], 0);
        this.stats.copiedObjects++;
        return;
      }
      const baseOid = this.baseOidOf(i, index, stored);
      const base = this.unique.ids.indexOf(baseOid);
      // Past the nesting bound the chain would be too deep anyway: the object goes whole.
      if (base >= 0 && this.state[base] === PENDING && nesting < MAX_REWRITE_DELTA_DEPTH)
        await this.writeObject(base, undefined, nesting + 1);
      // A base still in progress is a cycle of deltas across packs.
      if (base >= 0 && this.state[base] === WRITTEN && this.depth[base] < MAX_REWRITE_DELTA_DEPTH) {
        const header = encodeEntryHeader({ kind: 'ofs-delta', size: stored.size, distance: this.writer.offset - this.writtenAt[base] });
        await this.copy(e, reader, header, offset + stored.headerLength, end, this.typeOf[base], this.depth[base] + 1);
        this.stats.copiedDeltas++;
        return;
      }
      if (base < 0 && (await this.copyOnOtherPack(e, reader, stored, baseOid, offset + stored.headerLength, end))) return;
      const composed =
        base < 0 &&
        (await this.writeComposed(e, { baseOid, stored, cursor: reader, dataStart: offset + stored.headerLength, end }, nesting));
      if (!composed) await this.writeWhole(e, i);
    } finally {
      if (cursor === undefined) await reader.close();
    }
  }

  /**
   * Writes a delta whose base is left out of the new pack as a delta against its base's base,
   * when that one is in: the two stored deltas composed, no object resolved. False (nothing
   * written) when the base is stored whole or its base is not in the new pack either.
   */
  private async writeComposed(e: number, delta: StoredDelta, nesting: number): Promise<boolean> {
    const baseEntry = await this.packs.locate(delta.baseOid);
    if (baseEntry?.baseOid === undefined) return false;
    const grandBase = this.unique.ids.indexOf(baseEntry.baseOid);
    if (grandBase < 0) return false;
    if (this.state[grandBase] === PENDING && nesting < MAX_REWRITE_DELTA_DEPTH) await this.writeObject(grandBase, undefined, nesting + 1);
    if (this.state[grandBase] !== WRITTEN || this.depth[grandBase] >= MAX_REWRITE_DELTA_DEPTH) return false;

    const pieces: Buffer[] = [];
    for await (const piece of delta.cursor.range(delta.dataStart, delta.end)) pieces.push(piece);
    const pack = this.objects.pack(this.unique.selected[e]);
    const outer = await inflateDelta(Buffer.concat(pieces), delta.stored.size, pack, delta.dataStart);
    const inner = await inflateDelta(await this.packs.readDeflated(baseEntry), baseEntry.header.size, baseEntry.pack, baseEntry.offset);
    const composed = composeDeltas(inner, outer);
    const at = this.writer.offset;
    this.writer.beginEntry();
    await this.writer.write(encodeEntryHeader({ kind: 'ofs-delta', size: composed.length, distance: at - this.writtenAt[grandBase] }));
    await this.writer.write(await deflateEntryData(composed));
    this.record(e, at, this.typeOf[grandBase], this.depth[grandBase] + 1);
    this.stats.composedDeltas++;
    return true;
  }

  /**
   * Copies a delta whose base is in RewriteOptions.deltaBasesIn as a ref-delta against it, when
   * the chain stays within MAX_REWRITE_DELTA_DEPTH; false (nothing written) otherwise.
   */
  private async copyOnOtherPack(
    e: number,
    cursor: SpanCursor,
    stored: DeltaHeader,
    baseOid: ObjectId,
    dataStart: number,
    end: number,
  ): Promise<boolean> {
    const bases = this.options.deltaBasesIn;
    if (!bases) return false;
    const position = (this.basePositions ??= positionsOf(bases)).indexOf(baseOid);
    if (position < 0 || bases.depths[position] >= MAX_REWRITE_DELTA_DEPTH) return false;
    const header = encodeEntryHeader({ kind: 'ref-delta', size: stored.size, baseOid });
    await this.copy(e, cursor, header, dataStart, end, bases.types[position], bases.depths[position] + 1);
    this.stats.deltasOnOtherPack++;
    return true;
  }

  /** The id of a stored delta's base. */
  private baseOidOf(i: number, index: PackIndex, stored: DeltaHeader): ObjectId {
    if (stored.kind === 'ref-delta') return stored.baseOid;
    const baseOid = index.oidAt(stored.baseOffset);
    if (baseOid === undefined) {
      const pack = this.objects.pack(i);
      throw new CorruptPackError(
        pack,
        `pack ${pack}: ofs-delta at ${this.objects.offsets[i]} points at ${stored.baseOffset}, where no entry starts`,
      );
    }
    return baseOid;
  }

  /** Writes `header`, then the stored entry's deflated bytes [dataStart, end) as they are. */
  private async copy(
    e: number,
    cursor: SpanCursor,
    header: Buffer,
    dataStart: number,
    end: number,
    type: number,
    depth: number,
  ): Promise<void> {
    const at = this.writer.offset;
    this.writer.beginEntry();
    await this.writer.write(header);
    for await (const piece of cursor.range(dataStart, end)) await this.writer.write(piece);
    this.record(e, at, type, depth);
  }

  /** Writes the object whole, resolved and deflated afresh. */
  private async writeWhole(e: number, i: number): Promise<void> {
    const oid = this.objects.oid(i);
    const object = await this.reader.read(oid);
    if (!object)
      throw new MissingObjectError(oid, `stored in pack ${this.objects.pack(i)} at offset ${this.objects.offsets[i]}, then not readable`);
    const { header, deflated } = await wholeEntry(object);
    const at = this.writer.offset;
    this.writer.beginEntry();
    await this.writer.write(header);
    await this.writer.write(deflated);
    this.record(e, at, PACK_TYPE[object.type], 0);
    this.stats.recompressed++;
  }

  private record(e: number, at: number, type: number, depth: number): void {
    const { order } = this;
    const position = order.count++;
    const i = this.unique.selected[e];
    order.oids.set(this.objects.oids.subarray(OID_BYTES * i, OID_BYTES * i + OID_BYTES), OID_BYTES * position);
    order.offsets[position] = at;
    order.types[position] = type;
    order.depths[position] = depth;
    this.crcs[position] = this.writer.endEntry();
    this.state[e] = WRITTEN;
    this.writtenAt[e] = at;
    this.depth[e] = depth;
    this.typeOf[e] = type;
    if (this.options.onProgress && order.count - this.lastProgress >= PROGRESS_STEP) {
      this.lastProgress = order.count;
      this.options.onProgress(order.count, this.unique.count);
    }
  }
}

/** The ids of a pack in pack order, as a set whose entry numbers are their positions. */
function positionsOf(order: PackOrder): OidSet {
  const ids = new OidSet(order.count);
  for (let i = 0; i < order.count; i++) ids.addBytes(order.oids, OID_BYTES * i);
  return ids;
}
