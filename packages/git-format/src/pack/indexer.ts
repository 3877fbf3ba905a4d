import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { ObjectId, ObjectType } from '../oid.js';
import type { EntryTable } from './entry-table.js';
import { encodePackIndex, type PackIndexEntry } from './index-file.js';
import { ExpansionBudget, UNLIMITED_PACK, type PackLimits } from './limits.js';
import { PackInMemory, SpooledPackFile, type PackFile } from './pack-file.js';
import type { ParallelPassOptions } from './parallel/parallel-pass.js';
import { resolveDeltas } from './resolve-deltas.js';
import { scanPack } from './scan.js';

export interface IndexPackOptions {
  /** Base objects of a thin pack that are not in it: looked up here, then appended to the pack. */
  resolveExternal(oid: ObjectId): Promise<{ type: ObjectType; data: Buffer } | undefined>;
  /**
   * Called once per object of the pack as received with its resolved content (fsck,
   * connectivity): whole objects during the first pass, deltas during the second. Bases
   * appended to complete a thin pack came from the repository and are not reported.
   */
  onObject?(oid: ObjectId, type: ObjectType, data: Buffer): void | Promise<void>;
  /** Refuse any object whose inflated size is larger (decompression bombs). */
  maxObjectSize: number;
  /** Progress for sideband lines: phase and counts. Called for every object; throttle on the caller's side. */
  onProgress?(phase: 'receiving' | 'resolving', done: number, total: number): void;
  /**
   * Memory for the delta bases along the chain being resolved (default 128 MiB); past it the
   * oldest are dropped and rebuilt when needed again, trading time for a hard bound.
   */
  deltaBaseCacheBytes?: number;
  /** Bounds on the bytes the pack expands to and on its delta chains; none when absent. */
  limits?: PackLimits;
  /**
   * Bytes of expansion this call may do, as the pack declares them (every entry's size, and each
   * delta's base and result): past it indexPack throws IndexWorkCapReached during the first
   * pass, before it has written anything. This lets a caller index small packs where it stands
   * and move the others elsewhere. Unlike `limits`, reaching it refuses nothing.
   */
  workCap?: number;
  /**
   * Resolving deltas on several threads (the objects they resolve go to `parallel.objectSink`,
   * not to `onObject`); one thread when absent, or when the pack is in memory. The outcome is
   * the same either way.
   */
  parallel?: ParallelPassOptions;
}

export interface IndexedPack {
  /** SHA-1 trailer of the (possibly completed) pack: its name. */
  checksum: ObjectId;
  objectCount: number;
  /** Objects appended to complete a thin pack. */
  appendedBases: number;
  /** In pack order; built on first access (a large pack's idx needs no per-object JS objects). */
  entries: PackIndexEntry[];
  /** The `.idx` v2 bytes. */
  idx: Buffer;
  /** Size of the pack file after completion. */
  packSize: number;
  /** Bytes inflating and delta resolution produced: what the limits were checked against. */
  inflatedBytes: number;
  /** What each helper thread's object sink gathered (`parallel.objectSink`); empty when none ran. */
  sinkResults: unknown[];
  /** Each entry's object type code (PACK_TYPE, 1-4), in pack order: links to the pack's objects are checked against it. */
  typeCodes: Uint8Array;
}

/**
 * Indexes a pack spooled at a path, or held in memory (verifying its trailer, every entry and every
 * delta), reading it with bounded memory. A thin pack is completed in place: missing
 * ref-delta bases are appended as whole objects and the header count and trailer rewritten.
 * Throws PackFormatError (or the caller's errors) and leaves the file unusable on failure.
 * Its CPU work grows with what the pack expands to (bounded by `limits`) and it never yields:
 * run it off the event loop, as receive-pack does on its worker pool, unless `workCap` bounds it.
 */
export async function indexPack(pack: string | PackInMemory, options: IndexPackOptions): Promise<IndexedPack> {
  if (pack instanceof PackInMemory) return indexPackFile(pack, pack.size, undefined, options);
  const handle = await open(pack, 'r+');
  try {
    const { size } = await handle.stat();
    return await indexPackFile(new SpooledPackFile(handle), size, pack, options);
  } finally {
    await handle.close();
  }
}

/** `packPath` is where helper threads find the pack: without one, deltas are resolved on this thread alone. */
async function indexPackFile(file: PackFile, size: number, packPath: string | undefined, options: IndexPackOptions): Promise<IndexedPack> {
  const budget = new ExpansionBudget(options.limits ?? UNLIMITED_PACK, size);
  const { table, deltas, checksum: received, dataEnd } = await scanPack(file, size, { ...options, budget });
  const { appended, end, sinkResults } = await resolveDeltas(packPath, file, table, deltas, dataEnd, { ...options, budget });
  const checksum = appended > 0 ? await rewriteHeaderAndTrailer(file, table.count, end) : received;
  const idx = encodePackIndex(table.oids, table.offsets, table.crcs, table.count, checksum);
  return indexedPack(table, checksum.toString('hex'), appended, idx, end + 20, budget.inflatedBytes, sinkResults);
}

/** After appending bases: the new object count in the header, the file cut after the last entry, and a fresh trailer. */
async function rewriteHeaderAndTrailer(file: PackFile, objectCount: number, end: number): Promise<Buffer> {
  const count = Buffer.alloc(4);
  count.writeUInt32BE(objectCount);
  await file.write(count, 0, 4, 8);
  await file.truncate(end);
  const hash = createHash('sha1');
  const chunk = Buffer.allocUnsafe(1 << 20);
  for (let pos = 0; pos < end;) {
    const { bytesRead } = await file.read(chunk, 0, Math.min(chunk.length, end - pos), pos);
    if (bytesRead === 0) throw new Error(`pack file shrank while its trailer was rewritten, at ${pos}`);
    hash.update(chunk.subarray(0, bytesRead));
    pos += bytesRead;
  }
  const trailer = hash.digest();
  await file.write(trailer, 0, 20, end);
  return trailer;
}

function indexedPack(
  table: EntryTable,
  checksum: ObjectId,
  appendedBases: number,
  idx: Buffer,
  packSize: number,
  inflatedBytes: number,
  sinkResults: unknown[],
): IndexedPack {
  let entries: PackIndexEntry[] | undefined;
  return {
    checksum,
    objectCount: table.count,
    appendedBases,
    get entries() {
      entries ??= Array.from({ length: table.count }, (_, i) => ({
        oid: table.oids.toString('hex', 20 * i, 20 * i + 20),
        offset: table.offsets[i],
        crc32: table.crcs[i],
      }));
      return entries;
    },
    idx,
    packSize,
    inflatedBytes,
    sinkResults,
    typeCodes: table.types.subarray(0, table.count),
  };
}
