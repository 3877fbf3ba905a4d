import zlib from 'node:zlib';
import type { ObjectType } from '../oid.js';
import { crc32 } from './crc32.js';
import { deltaSizes } from './delta.js';
import { PACK_TYPE, PackFormatError, encodeEntryHeader } from './entry.js';
import type { DeltaArena } from './delta-arena.js';
import { DeltaForest } from './delta-forest.js';
import type { EntryTable } from './entry-table.js';
import { BlockReader } from './file-readers.js';
import { objectIdBytes } from './inflate.js';
import type { PackFile } from './pack-file.js';
import { releaseHelpers, resolveTreesInParallel, takeHelpers, type ParallelPassOptions } from './parallel/parallel-pass.js';
import { TreeResolver, type TreeResolverOptions } from './tree-resolver.js';

export interface ResolveOptions extends Omit<TreeResolverOptions, 'onResolved' | 'abandoned'> {
  resolveExternal(oid: string): Promise<{ type: ObjectType; data: Buffer } | undefined>;
  onProgress?(phase: 'receiving' | 'resolving', done: number, total: number): void;
  /** Resolving the trees of the pack's own objects on several threads, for packs with enough deltas. */
  parallel?: ParallelPassOptions;
}

export interface ResolvedDeltas {
  appended: number;
  end: number;
  /** What the helper threads' object sinks gathered; empty when the pass ran on this thread alone. */
  sinkResults: unknown[];
}

/**
 * Pass two: resolves every delta, tree by tree, each from its whole object down (TreeResolver).
 * Ref-delta bases that the pack lacks come from `resolveExternal` and are appended to the
 * file as whole objects, after the trees of the pack's own objects. Returns how many were
 * appended and where the entries now end.
 */
export async function resolveDeltas(
  packPath: string | undefined,
  file: PackFile,
  table: EntryTable,
  deltas: DeltaArena,
  dataEnd: number,
  options: ResolveOptions,
): Promise<ResolvedDeltas> {
  // Helper threads open the pack by its path: one held in memory is resolved here alone.
  const parallel = packPath === undefined ? undefined : options.parallel;
  // On shared memory when threads may take part: they read the forest instead of each getting a copy.
  const forest = DeltaForest.build(table, parallel ? (bytes) => new SharedArrayBuffer(bytes) : undefined);
  const reader = new BlockReader(file);
  const thin = new ThinPackCompletion(file, table, deltas, reader, dataEnd, options);
  let resolved = 0;
  const progress = (done: number): void => options.onProgress?.('resolving', done, forest.deltaCount);
  const resolver = new TreeResolver(reader, table, forest, deltas, () => thin.end, {
    ...options,
    onResolved: () => progress(++resolved),
  });

  const roots = forest.rootsInPack();
  const helpers = takeHelpers(parallel, forest.deltaCount, roots.length, options.onObject !== undefined);
  let sinkResults: unknown[] = [];
  if (parallel !== undefined && packPath !== undefined && helpers > 0) {
    const context = { packPath, table, deltas, dataEnd, budget: options.budget, deltaBaseCacheBytes: options.deltaBaseCacheBytes };
    try {
      sinkResults = await resolveTreesInParallel(context, parallel.objectSink, helpers, forest, roots, (done) =>
        progress((resolved = done)),
      );
    } finally {
      releaseHelpers(parallel, helpers);
    }
  } else {
    for (const root of roots) await resolver.resolveStoredRoot(root);
  }
  // In pack order, as git's fix_unresolved_deltas: a ref-delta whose base is in the pack but
  // built on a missing base then comes after that base, and is resolved in its tree.
  const refBases = table.refBases;
  for (let entry = 0; entry < forest.inPackCount; entry++) {
    if (table.codes[entry] !== PACK_TYPE.refDelta || table.types[entry] !== 0 || refBases === undefined) continue;
    const root = await thin.appendExternalBase(refBases.toString('hex', 20 * entry, 20 * entry + 20), entry);
    await resolver.resolveFrom(root.entry, root.data);
  }
  for (let i = 0; i < forest.inPackCount; i++) {
    if (table.types[i] === 0) {
      throw new PackFormatError(`delta at offset ${table.offsets[i]} cannot be resolved: its chain of bases never reaches a whole object`);
    }
  }
  return { appended: thin.appended, end: thin.end, sinkResults };
}

/** Completes a thin pack: missing ref-delta bases, fetched from the repository, appended as whole objects. */
class ThinPackCompletion {
  appended = 0;

  constructor(
    private readonly file: PackFile,
    private readonly table: EntryTable,
    private readonly deltas: DeltaArena,
    private readonly reader: BlockReader,
    /** Where the entries end: the trailer's offset until bases are appended over it. */
    public end: number,
    private readonly options: ResolveOptions,
  ) {}

  /** Fetches a missing base, checks its id, and appends it as a whole object. */
  async appendExternalBase(oid: string, neededBy: number): Promise<{ entry: number; data: Buffer }> {
    const found = await this.options.resolveExternal(oid);
    if (found === undefined) {
      throw new PackFormatError(
        `ref-delta at offset ${this.table.offsets[neededBy]} needs base ${oid}, which is neither in the pack nor in the repository`,
      );
    }
    this.checkDeclaredSize(oid, found.data.length, neededBy);
    this.options.budget.charge(found.data.length);
    const code = PACK_TYPE[found.type];
    const id = objectIdBytes(code, found.data);
    if (id.toString('hex') !== oid) throw new Error(`resolveExternal(${oid}) returned a ${found.type} whose id is ${id.toString('hex')}`);
    const header = encodeEntryHeader({ kind: 'object', type: found.type, size: found.data.length });
    const bytes = Buffer.concat([header, zlib.deflateSync(found.data)]);
    await writeFully(this.file, bytes, this.end);
    this.reader.invalidateFrom(this.end);
    const entry = this.table.add(this.end, header.length, code, found.data.length, crc32(bytes));
    id.copy(this.table.oids, 20 * entry);
    this.table.types[entry] = code;
    this.end += bytes.length;
    this.appended++;
    return { entry, data: found.data };
  }

  /**
   * A base of another size than its delta declares could never be applied: refused before it is
   * compressed and written, which would otherwise cost what the repository's object weighs, not
   * what the pack declared (IndexPackOptions.workCap counts the declared size).
   */
  private checkDeclaredSize(oid: string, size: number, neededBy: number): void {
    const delta = this.deltas.get(neededBy);
    if (delta === undefined) return;
    const declared = deltaSizes(delta).base;
    if (declared !== size) {
      throw new PackFormatError(
        `ref-delta at offset ${this.table.offsets[neededBy]} expects a base of ${declared} bytes, but ${oid} has ${size}`,
      );
    }
  }
}

async function writeFully(file: PackFile, bytes: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await file.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}
