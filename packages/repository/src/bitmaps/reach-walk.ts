import { Bitmap, FileMode, newTreeEntryPosition, readTreeEntryAt, type ObjectId, type ObjectType } from '@gitfleet/git-format';
import { MissingObjectError } from '../errors.js';
import type { LoopPacer } from '../loop-pacer.js';
import type { ObjectReader } from '../object-reader.js';
import { OidSet } from '../oid-set.js';
import type { CommitReader } from '../reachability/commits.js';
import { DateQueue } from '../reachability/date-queue.js';
import { readTrees } from '../reachability/read-trees.js';
import type { PackPositions } from './pack-positions.js';

/** Types of objects outside the pack, kept as the flags of their entry in Reached.outside. */
const TYPE_FLAGS: Record<ObjectType, number> = { commit: 1, tree: 2, blob: 3, tag: 4 };
const FLAG_TYPES: readonly (ObjectType | undefined)[] = [undefined, 'commit', 'tree', 'blob', 'tag'];

/** A set of objects reached: pack positions of one pack as bits, anything outside it by id (with its type). */
export class Reached {
  private outsideSet: OidSet | undefined;

  constructor(readonly bits: Bitmap) {}

  /** Made on first use: most sets built while writing bitmaps never hold an object outside the pack. */
  get outside(): OidSet {
    return (this.outsideSet ??= new OidSet());
  }

  static forPack(positions: PackPositions): Reached {
    return new Reached(Bitmap.withCapacity(positions.count));
  }

  has(positions: PackPositions, oid: ObjectId): boolean {
    const position = positions.positionOf(oid);
    return position >= 0 ? this.bits.get(position) : this.outside.has(oid);
  }

  outsideType(entry: number): ObjectType {
    return FLAG_TYPES[this.outside.flags(entry)]!;
  }
}

export interface ReachWalkContext {
  objects: ObjectReader;
  commits: CommitReader;
  positions: PackPositions;
  /** Everything reachable from a commit of the pack, when that is known already (a bitmap), as pack positions. */
  storedReach(commit: ObjectId): Bitmap | undefined;
  /** Whether objects outside the pack may be met (serving), or mean the pack lacks closure (building). */
  allowOutside: boolean;
  pacer: LoopPacer;
}

export interface ReachRoots {
  commits: readonly ObjectId[];
  trees: readonly ObjectId[];
}

export interface ReachWalkOptions {
  /** What is reached already elsewhere: not entered. Where the walk meets it, the commit's tree is added to `stop` (an edge). */
  stop?: Reached;
  /**
   * Whether the trees of walked commits outside the pack (pushed since it was written) are walked
   * too (default true); false marks those commits only. Trees of commits in the pack are always
   * walked: between two bitmapped commits there are few.
   */
  outsideTrees?: boolean;
}

/**
 * Adds to `into` everything reachable from `roots` that neither `into` nor `stop` holds yet.
 * Commits come newest first, so that a commit with a stored bitmap is usually met (and its
 * reach ORed in) before the older commits it covers, which are then not entered; a commit or
 * tree already set is not entered either. Only what no bitmap covers is read.
 *
 * Where the walk meets a commit `stop` holds, that commit's tree goes into `stop` before the
 * walked trees are: git's edges (mark_edges_uninteresting), so that a `stop` made without the
 * trees of some commits (outsideTrees: false) still keeps what the client's newest trees hold
 * out of `into`.
 */
export async function walkReach(
  context: ReachWalkContext,
  roots: ReachRoots,
  into: Reached,
  options: ReachWalkOptions = {},
): Promise<void> {
  const { commits, positions, pacer } = context;
  const { stop, outsideTrees = true } = options;
  const queue = new DateQueue();
  const enqueue = async (oid: ObjectId, why: string): Promise<void> => {
    queue.push(oid, (await commits.commit(oid, why)).time);
  };
  for (const oid of roots.commits) await enqueue(oid, 'wanted commit');
  const trees: ObjectId[] = [...roots.trees];
  const edgeTrees: ObjectId[] = [];
  const atEdge = async (oid: ObjectId): Promise<void> => {
    edgeTrees.push((await commits.commit(oid, 'edge commit')).tree);
  };
  for (let oid = queue.pop(); oid !== undefined; oid = queue.pop()) {
    await pacer.step();
    const position = positions.positionOf(oid);
    if (position >= 0) {
      if (into.bits.get(position)) continue;
      if (stop?.bits.get(position)) {
        await atEdge(oid);
        continue;
      }
      const stored = context.storedReach(oid);
      if (stored) {
        into.bits.or(stored);
        continue;
      }
      into.bits.set(position);
    } else if (!markOutside(context, into, stop, oid, 'commit')) {
      if (stop && stop.outside.size > 0 && stop.outside.has(oid)) await atEdge(oid);
      continue;
    }
    const commit = await commits.commit(oid, 'walked commit');
    if (outsideTrees || position >= 0) trees.push(commit.tree);
    for (const parent of commit.parents) {
      const parentPosition = positions.positionOf(parent);
      if (parentPosition >= 0 && into.bits.get(parentPosition)) continue;
      await enqueue(parent, `parent of ${oid}`);
    }
  }
  if (stop && edgeTrees.length > 0) await walkTrees(context, edgeTrees, stop, undefined);
  await walkTrees(context, trees, into, stop);
}

/** Marks one object reached, by id; false when it was already (or `stop` has it). */
export function markReached(context: ReachWalkContext, into: Reached, stop: Reached | undefined, oid: ObjectId, type: ObjectType): boolean {
  const position = context.positions.positionOf(oid);
  if (position < 0) return markOutside(context, into, stop, oid, type);
  if (into.bits.get(position) || stop?.bits.get(position)) return false;
  into.bits.set(position);
  return true;
}

function markOutside(context: ReachWalkContext, into: Reached, stop: Reached | undefined, oid: ObjectId, type: ObjectType): boolean {
  return markOutsideAt(context, into, stop, Buffer.from(oid, 'hex'), 0, type);
}

/**
 * markOutside for the binary id at bytes[at..at+20), as a tree entry holds it: a walk makes no
 * hex id for an object met before, which is most of them (every later tree of a history pushed
 * since the pack was written names the same new files again).
 */
function markOutsideAt(
  context: ReachWalkContext,
  into: Reached,
  stop: Reached | undefined,
  bytes: Uint8Array,
  at: number,
  type: ObjectType,
): boolean {
  if (!context.allowOutside) {
    throw new MissingObjectError(
      Buffer.from(bytes.subarray(at, at + 20)).toString('hex'),
      `reachable ${type}, yet not in the pack being bitmapped`,
    );
  }
  if (stop && stop.outside.size > 0 && stop.outside.hasBytes(bytes, at)) return false;
  return into.outside.addBytes(bytes, at, TYPE_FLAGS[type]) >= 0;
}

/** Breadth-first from `roots`, entering only trees not reached yet; entries are looked up as binary ids, in place. */
export async function walkTrees(
  context: ReachWalkContext,
  roots: readonly ObjectId[],
  into: Reached,
  stop: Reached | undefined,
): Promise<void> {
  const { positions, objects, pacer } = context;
  let level: ObjectId[] = roots.filter((oid) => markReached(context, into, stop, oid, 'tree'));
  const entry = newTreeEntryPosition();
  const bits = into.bits;
  const stopBits = stop?.bits;
  while (level.length > 0) {
    const next: ObjectId[] = [];
    await readTrees(
      objects,
      level,
      (data) => {
        for (let pos = 0; pos < data.length;) {
          pos = readTreeEntryAt(data, pos, entry);
          const mode = entry.mode;
          if (mode === FileMode.Submodule) continue;
          const at = entry.nameEnd + 1;
          const position = positions.positionOfBytes(data, at);
          if (position >= 0) {
            if (bits.get(position) || stopBits?.get(position)) continue;
            bits.set(position);
            if (mode === FileMode.Dir) next.push(positions.oidAt(position));
          } else if (markOutsideAt(context, into, stop, data, at, mode === FileMode.Dir ? 'tree' : 'blob') && mode === FileMode.Dir) {
            next.push(data.toString('hex', at, at + 20));
          }
        }
      },
      pacer,
    );
    level = next;
  }
}
