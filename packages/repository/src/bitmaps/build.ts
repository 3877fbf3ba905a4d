import {
  Bitmap,
  decodeEwah,
  encodeEwah,
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
import { Reached, walkTrees } from './reach-walk.js';
import { DateQueue } from '../reachability/date-queue.js';
import { MissingObjectError } from '../errors.js';
import { selectCommits } from './select-commits.js';

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
  /** Called now and then with the number of commits whose reach is known. */
  onProgress?(done: number, commits: number): void;
}

/**
 * Writes the `.bitmap` of a pack that holds every object reachable from `tips`: git's commit
 * selection (see selectCommits), then the reach of every commit, parents before children (see
 * reachOfEveryCommit), keeping that of the selected ones. Objects are read through `objects`,
 * which must find the pack's objects.
 *
 * Memory: one bit per object for every selected commit (kept until the file is written, which
 * takes them all) and for each line of history open at once (compressed where it waits for
 * several children), plus the id lookup (about 36 bytes per object) and the parsed commits.
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
  const positions = await PackPositions.fromPackOrder(pack.oidsInPackOrder, pacer);
  const indexPositions = reverseIndexOf(index);
  await requireIndexOrder(pack, positions, indexPositions, pacer);
  const types = typeBitmaps(pack.typesInPackOrder);

  const history = await readCommits(objects, pack, positions, pacer);
  const tipCommits = new Set<ObjectId>();
  for (const tip of tips) {
    const position = positions.positionOf(tip);
    if (position < 0) throw new RangeError(`bitmap for pack ${checksum}: tip ${tip} is not in the pack`);
    if (pack.typesInPackOrder[position] === 'commit') tipCommits.add(tip);
  }
  const candidates = history.commits.map((c) => ({ oid: c.oid, time: c.time, isMerge: c.parents.length > 1 }));
  const oldestFirst = selectCommits(candidates, tipCommits, options.maxExtraTips).reverse();
  const built = await reachOfEveryCommit(objects, history, positions, new Set(oldestFirst), pacer, (done) =>
    options.onProgress?.(done, history.commits.length),
  );
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

interface HistoryCommit {
  oid: ObjectId;
  time: number;
  tree: ObjectId;
  /** Indexes in History.commits. */
  parents: number[];
  children: number[];
}

interface History {
  commits: HistoryCommit[];
}

/** Every commit of the pack with its parents and children (all in the pack, which holds all history). */
async function readCommits(objects: ObjectReader, pack: PackToBitmap, positions: PackPositions, pacer: LoopPacer): Promise<History> {
  const reader = new CommitReader(objects);
  const byOid = new Map<ObjectId, number>();
  const commits: HistoryCommit[] = [];
  const parentOids: (readonly ObjectId[])[] = [];
  for (let position = 0; position < positions.count; position++) {
    if (pack.typesInPackOrder[position] !== 'commit') continue;
    await pacer.step();
    const oid = positions.oidAt(position);
    const commit = await reader.commit(oid, `commit of pack ${pack.checksum}`);
    byOid.set(oid, commits.length);
    commits.push({ oid, time: commit.time, tree: commit.tree, parents: [], children: [] });
    parentOids.push(commit.parents);
  }
  commits.forEach((commit, i) => {
    // A parent named twice (git allows it) is one parent here: its reach is taken once.
    for (const parent of new Set(parentOids[i])) {
      const p = byOid.get(parent);
      if (p === undefined) throw new MissingObjectError(parent, `parent of ${commit.oid}, yet not a commit of pack ${pack.checksum}`);
      commit.parents.push(p);
      commits[p].children.push(i);
    }
  });
  return { commits };
}

/**
 * The reach of each commit in `keep`, from one pass over the whole history, parents before
 * children (oldest first among those ready): a commit's reach is its parents' ORed, its own
 * bit, and the trees of its root tree that none of them reach, so every tree is read about
 * once, whichever commits get a bitmap. A parent's reach is held until its last child has
 * taken it: handed over as is to a single child, kept EWAH-compressed for several.
 */
async function reachOfEveryCommit(
  objects: ObjectReader,
  history: History,
  positions: PackPositions,
  keep: ReadonlySet<ObjectId>,
  pacer: LoopPacer,
  onProgress: (done: number) => void,
): Promise<Map<ObjectId, Bitmap>> {
  const { commits } = history;
  const count = positions.count;
  const context = { objects, commits: new CommitReader(objects), positions, storedReach: () => undefined, allowOutside: false, pacer };
  const held = new Map<number, Bitmap | Buffer>();
  const childrenLeft = commits.map((c) => c.children.length);
  const parentsLeft = commits.map((c) => c.parents.length);
  const kept = new Map<ObjectId, Bitmap>();
  // Oldest first: a DateQueue pops the greatest time.
  const ready = new DateQueue();
  const indexByOid = new Map(commits.map((c, i) => [c.oid, i]));
  commits.forEach((c, i) => parentsLeft[i] === 0 && ready.push(c.oid, -c.time));
  let done = 0;
  for (let oid = ready.pop(); oid !== undefined; oid = ready.pop()) {
    const i = indexByOid.get(oid)!;
    const commit = commits[i];
    const reach = takeParentsReach(commit, held, childrenLeft, count);
    reach.set(positions.positionOf(commit.oid));
    await walkTrees(context, [commit.tree], new Reached(reach), undefined);
    if (keep.has(commit.oid)) kept.set(commit.oid, commit.children.length > 0 ? reach.clone() : reach);
    if (commit.children.length === 1) held.set(i, reach);
    else if (commit.children.length > 1) held.set(i, encodeEwah(reach));
    for (const child of commit.children) if (--parentsLeft[child] === 0) ready.push(commits[child].oid, -commits[child].time);
    if (++done % 1000 === 0) onProgress(done);
  }
  if (done !== commits.length) throw new Error(`${commits.length - done} commits of the pack are in a cycle of parents`);
  return kept;
}

/** The ORed reach of the commit's parents, as a bitmap the caller may change; parents no child still needs are let go. */
function takeParentsReach(commit: HistoryCommit, held: Map<number, Bitmap | Buffer>, childrenLeft: number[], count: number): Bitmap {
  let reach: Bitmap | undefined;
  for (const parent of commit.parents) {
    const stored = held.get(parent);
    if (stored === undefined) throw new Error(`reach of parent ${parent} of ${commit.oid} is not held`);
    const last = --childrenLeft[parent] === 0;
    if (last) held.delete(parent);
    const parentReach = stored instanceof Bitmap ? (last ? stored : stored.clone()) : decodeEwah(stored, 0, count).bitmap;
    if (reach === undefined) reach = parentReach;
    else reach.or(parentReach);
  }
  return reach ?? Bitmap.withCapacity(count);
}
