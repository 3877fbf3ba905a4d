import {
  Bitmap,
  packPositionsByIndexPosition,
  reverseIndexOf,
  writeBitmapFile,
  type ObjectId,
  type ObjectType,
  type PackIndex,
  type TypeBitmaps,
} from '@gitfleet/git-format';
import { LoopPacer } from '../loop-pacer.js';
import type { ObjectReader } from '../object-reader.js';
import { CommitReader } from '../reachability/commits.js';
import { PackPositions } from './pack-positions.js';
import { Reached, walkReach } from './reach-walk.js';
import { selectCommits, type CandidateCommit } from './select-commits.js';

/** A pack to write a `.bitmap` for: every object reachable from the tips, and nothing else is needed. */
export interface PackToBitmap {
  checksum: ObjectId;
  index: PackIndex;
  /** Every object of the pack, in pack order (by offset): the numbering of the bitmaps' bits. */
  oidsInPackOrder: ArrayLike<ObjectId>;
  /** The type of each, in the same order (deltas resolved: the object's own type). */
  typesInPackOrder: ArrayLike<ObjectType>;
}

export interface BuildBitmapsOptions {
  /** Shared with the rest of the task, if it runs other loops. */
  pacer?: LoopPacer;
  /** Bitmaps for tips that git's spacing does not pick (default MAX_EXTRA_TIP_BITMAPS, the newest). */
  maxExtraTips?: number;
  /** Called after each selected commit's bitmap is built. */
  onProgress?(built: number, selected: number): void;
}

/**
 * Writes the `.bitmap` of a pack that holds every object reachable from `tips`: git's commit
 * selection (see selectCommits), then one bitmap per selected commit, oldest first, each built
 * from the bitmaps of the nearest selected ancestors ORed, plus a walk of only what they do not
 * cover (see walkReach). Objects are read through `objects`, which must find the pack's objects.
 *
 * Memory: one bit per object for every selected commit (kept until the file is written, which
 * takes them all), plus the id lookup (about 36 bytes per object) and the parsed commits.
 */
export async function buildPackBitmaps(
  objects: ObjectReader,
  pack: PackToBitmap,
  tips: readonly ObjectId[],
  options: BuildBitmapsOptions = {},
): Promise<Buffer> {
  const { index, checksum } = pack;
  const count = index.objectCount;
  if (index.packChecksum !== checksum) throw new RangeError(`bitmap for pack ${checksum}: its idx describes pack ${index.packChecksum}`);
  if (pack.oidsInPackOrder.length !== count || pack.typesInPackOrder.length !== count) {
    throw new RangeError(
      `bitmap for pack ${checksum}: ${pack.oidsInPackOrder.length} ids and ${pack.typesInPackOrder.length} types for ${count} objects`,
    );
  }
  const pacer = options.pacer ?? new LoopPacer();
  const positions = PackPositions.fromPackOrder(pack.oidsInPackOrder);
  const indexPositions = reverseIndexOf(index);
  await requireIndexOrder(pack, positions, indexPositions, pacer);
  const types = typeBitmaps(pack.typesInPackOrder);

  const commits = new CommitReader(objects);
  const candidates: CandidateCommit[] = [];
  for (let position = 0; position < count; position++) {
    if (pack.typesInPackOrder[position] !== 'commit') continue;
    await pacer.step();
    const oid = positions.oidAt(position);
    const commit = await commits.commit(oid, `commit of pack ${checksum}`);
    candidates.push({ oid, time: commit.time, isMerge: commit.parents.length > 1 });
  }
  const tipCommits = new Set<ObjectId>();
  for (const tip of tips) {
    const position = positions.positionOf(tip);
    if (position < 0) throw new RangeError(`bitmap for pack ${checksum}: tip ${tip} is not in the pack`);
    if (pack.typesInPackOrder[position] === 'commit') tipCommits.add(tip);
  }
  const oldestFirst = selectCommits(candidates, tipCommits, options.maxExtraTips).reverse();

  const built = new Map<ObjectId, Bitmap>();
  const context = { objects, commits, positions, storedReach: (oid: ObjectId) => built.get(oid), allowOutside: false, pacer };
  for (const oid of oldestFirst) {
    const reached = Reached.forPack(positions);
    await walkReach(context, { commits: [oid], trees: [] }, reached);
    built.set(oid, reached.bits);
    options.onProgress?.(built.size, oldestFirst.length);
  }
  return writeBitmapFile({
    packChecksum: checksum,
    objectCount: count,
    types,
    entries: oldestFirst.map((oid) => ({ indexPosition: indexPositions[positions.positionOf(oid)], bitmap: built.get(oid)! })),
  });
}

/** The ids given in pack order must be the pack's: each one's position must be its offset's rank in the idx. */
async function requireIndexOrder(
  pack: PackToBitmap,
  positions: PackPositions,
  indexPositions: Uint32Array,
  pacer: LoopPacer,
): Promise<void> {
  const packPositions = packPositionsByIndexPosition(indexPositions);
  let indexPosition = 0;
  for (const entry of pack.index.entries()) {
    if ((indexPosition & 0xfff) === 0) await pacer.step();
    const given = positions.positionOf(entry.oid);
    if (given !== packPositions[indexPosition]) {
      throw new RangeError(
        `bitmap for pack ${pack.checksum}: object ${entry.oid} is at pack position ${packPositions[indexPosition]}, given at ${given}`,
      );
    }
    indexPosition++;
  }
}

function typeBitmaps(typesInPackOrder: ArrayLike<ObjectType>): TypeBitmaps {
  const count = typesInPackOrder.length;
  const types: TypeBitmaps = {
    commits: Bitmap.withCapacity(count),
    trees: Bitmap.withCapacity(count),
    blobs: Bitmap.withCapacity(count),
    tags: Bitmap.withCapacity(count),
  };
  const byType = { commit: types.commits, tree: types.trees, blob: types.blobs, tag: types.tags };
  for (let position = 0; position < count; position++) {
    const bitmap = byType[typesInPackOrder[position]];
    if (!bitmap) throw new RangeError(`pack position ${position} has type ${String(typesInPackOrder[position])}`);
    bitmap.set(position);
  }
  return types;
}
