import { Bitmap, FileMode, type ObjectId, type ObjectType, type PackIndex } from '@gitfleet/git-format';
import { MissingObjectError } from '../errors.js';
import type { LoopPacer } from '../loop-pacer.js';
import type { ObjectReader } from '../object-reader.js';
import { OidSet } from '../oid-set.js';
import type { CommitReader } from '../reachability/commits.js';
import { DateQueue } from '../reachability/date-queue.js';
import { readTrees } from '../reachability/read-trees.js';
import type { PackPositions } from './pack-positions.js';
import { treeEntries, visitChangedEntries, type TreeEntries } from './tree-changes.js';

/**
 * Types of objects outside the pack, kept as the flags of their entry in Reached.outside; 0 for
 * an object of another pack taken whole (markWholePack), whose type is not read.
 */
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

  /** The type of an object outside the pack; undefined for one taken with a whole pack (markWholePack). */
  outsideType(entry: number): ObjectType | undefined {
    return FLAG_TYPES[this.outside.flags(entry)];
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
  /** Of the commits outside the pack, only these are entered (their parents walked); the others are marked only. Default: all. */
  enterOutside?: ReadonlySet<ObjectId>;
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
  const { stop, outsideTrees = true, enterOutside } = options;
  const queue = new DateQueue();
  const enqueue = async (oid: ObjectId, why: string): Promise<void> => {
    queue.push(oid, (await commits.commit(oid, why)).time);
  };
  for (const oid of roots.commits) await enqueue(oid, 'wanted commit');
  /** Of each commit whose tree is walked, in the order met: its tree and first parent, to find that tree's base. */
  const walkedCommits = new Map<ObjectId, { tree: ObjectId; firstParent: ObjectId | undefined }>();
  const edgeTreeOf = new Map<ObjectId, ObjectId>();
  const atEdge = async (oid: ObjectId): Promise<void> => {
    edgeTreeOf.set(oid, (await commits.commit(oid, 'edge commit')).tree);
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
    } else if (enterOutside && !enterOutside.has(oid)) {
      continue;
    }
    const commit = await commits.commit(oid, 'walked commit');
    if (outsideTrees || position >= 0) walkedCommits.set(oid, { tree: commit.tree, firstParent: commit.parents[0] });
    for (const parent of commit.parents) {
      const parentPosition = positions.positionOf(parent);
      if (parentPosition >= 0 && into.bits.get(parentPosition)) continue;
      await enqueue(parent, `parent of ${oid}`);
    }
  }
  const entered = new Set<ObjectId>();
  if (stop && edgeTreeOf.size > 0) await walkTrees(context, [...edgeTreeOf.values()], stop, undefined, { entered });
  // Oldest commits first, so that a commit's parent's tree is walked before its own, and serves as its base.
  const trees = [...roots.trees, ...[...walkedCommits.values()].map(({ tree }) => tree).reverse()];
  await walkTrees(context, trees, into, stop, { bases: parentTreeBases(trees, walkedCommits, edgeTreeOf), entered });
}

/**
 * Each walked commit's tree → the tree of its first parent, where that tree is a base as walkTrees
 * needs one: an edge's (walked into `stop` before) or one listed before it in `trees`.
 */
function parentTreeBases(
  trees: readonly ObjectId[],
  walkedCommits: ReadonlyMap<ObjectId, { tree: ObjectId; firstParent: ObjectId | undefined }>,
  edgeTreeOf: ReadonlyMap<ObjectId, ObjectId>,
): Map<ObjectId, ObjectId> {
  const firstListed = new Map<ObjectId, number>();
  trees.forEach((tree, at) => {
    if (!firstListed.has(tree)) firstListed.set(tree, at);
  });
  const bases = new Map<ObjectId, ObjectId>();
  for (const { tree, firstParent } of walkedCommits.values()) {
    if (firstParent === undefined || bases.has(tree)) continue;
    const edgeTree = edgeTreeOf.get(firstParent);
    const parentTree = walkedCommits.get(firstParent)?.tree;
    if (edgeTree !== undefined) bases.set(tree, edgeTree);
    else if (parentTree !== undefined && firstListed.get(parentTree)! < firstListed.get(tree)!) bases.set(tree, parentTree);
  }
  return bases;
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

/**
 * Marks every object of another stored pack reached, outside the bitmapped one, by id and without
 * reading any (nor its type): for a request that wants all of that pack, which shares no object
 * with the bitmapped pack, and is filtered by no type.
 */
export async function markWholePack(context: ReachWalkContext, into: Reached, pack: PackIndex): Promise<void> {
  const ids = pack.objectIdBytes();
  for (let i = 0; i < pack.objectCount; i++) {
    if ((i & 0xfff) === 0) await context.pacer.step();
    into.outside.addBytes(ids, 20 * i, 0);
  }
}

/** A walkTrees that looks up only what each tree changed from its base. */
export interface SparseTreeWalk {
  /** A root → its base tree: one listed before it in `roots`, or one entered by an earlier walk sharing `entered`. */
  bases?: ReadonlyMap<ObjectId, ObjectId>;
  /** The trees entered (read and gone through), by this walk and the earlier ones given the same set. */
  entered: Set<ObjectId>;
}

/**
 * Breadth-first from `roots`, entering only trees not reached yet; entries are looked up as binary
 * ids, in place.
 *
 * With `sparse.bases`, only the entries of a tree that its base does not hold as they are get
 * looked up (tree-changes.ts), and a subtree whose id differs from the base's of the same name
 * gets that one as its base: a commit's tree mostly repeats its parent's, and going through every
 * entry again was most of an incremental fetch's walk (git's pack.useSparse walks the same way).
 * That is sound only when the base's own entries are reached by the time the walk ends, whatever
 * this walk passes over. So a base serves only once it is entered: by an earlier walk, or by this
 * one before the tree based on it (a root's base is listed before it; a subtree's base is a
 * subtree of its parent's base, entered in the level before or marked before it). Level by level,
 * then, every chain of bases ends at a tree whose entries are all looked up. A tree only marked,
 * never entered, is no base: one reached first under a file's mode (a crafted tree can name a
 * tree so) has entries nothing looks up.
 */
export async function walkTrees(
  context: ReachWalkContext,
  roots: readonly ObjectId[],
  into: Reached,
  stop: Reached | undefined,
  sparse?: SparseTreeWalk,
): Promise<void> {
  const { positions, objects, pacer } = context;
  const entered = sparse?.entered;
  let level: ObjectId[] = roots.filter((oid) => markReached(context, into, stop, oid, 'tree'));
  let levelBases: (ObjectId | undefined)[] = level.map((oid) => sparse?.bases?.get(oid));
  const bits = into.bits;
  const stopBits = stop?.bits;
  while (level.length > 0) {
    for (const oid of level) entered?.add(oid);
    const next: ObjectId[] = [];
    const nextBases: (ObjectId | undefined)[] = [];
    // Without bases (bitmaps being built, an edge walk), no level has any.
    const baseTrees = sparse?.bases && new BaseTrees(level, levelBases, entered);
    await readTrees(
      objects,
      level,
      (data, at, readBase) => {
        const visited = visitChangedEntries(data, baseTrees?.take(at, readBase), baseTrees?.isBase(at) ?? false, (entry, subtreeBase) => {
          const mode = entry.mode;
          if (mode === FileMode.Submodule) return;
          const oidAt = entry.nameEnd + 1;
          const position = positions.positionOfBytes(data, oidAt);
          if (position >= 0) {
            if (bits.get(position) || stopBits?.get(position)) return;
            bits.set(position);
            if (mode === FileMode.Dir) {
              next.push(positions.oidAt(position));
              nextBases.push(subtreeBase);
            }
          } else if (markOutsideAt(context, into, stop, data, oidAt, mode === FileMode.Dir ? 'tree' : 'blob') && mode === FileMode.Dir) {
            next.push(data.toString('hex', oidAt, oidAt + 20));
            nextBases.push(subtreeBase);
          }
        });
        if (visited) baseTrees?.keep(at, visited);
      },
      pacer,
      baseTrees && ((at) => baseTrees.toRead(at)),
    );
    level = next;
    levelBases = nextBases;
  }
}

/** Bytes of base trees one level keeps for the trees based on them; past it, those trees are gone through whole. */
const MAX_KEPT_BASE_BYTES = 32 * 1024 * 1024;

/**
 * The base trees of one level of walkTrees: a base entered in the same level is kept from its own
 * visit until the last tree based on it has used it; any other is read with the tree based on it.
 */
class BaseTrees {
  private readonly levelIndex = new Map<ObjectId, number>();
  /** Trees of the level still to use each base entered in it. */
  private readonly uses = new Map<ObjectId, number>();
  private readonly kept = new Map<ObjectId, TreeEntries>();
  private keptBytes = 0;

  constructor(
    private readonly level: readonly ObjectId[],
    private readonly bases: readonly (ObjectId | undefined)[],
    private readonly entered: ReadonlySet<ObjectId> | undefined,
  ) {
    level.forEach((oid, at) => {
      if (!this.levelIndex.has(oid)) this.levelIndex.set(oid, at);
    });
    bases.forEach((base, at) => {
      if (base !== undefined && this.entersBefore(base, at)) this.uses.set(base, (this.uses.get(base) ?? 0) + 1);
    });
  }

  /** The base to read along with the tree at `at`: one entered before this level (one entered in it must come before the tree, and is kept). */
  toRead(at: number): ObjectId | undefined {
    const base = this.bases[at];
    return base !== undefined && !this.levelIndex.has(base) && this.entered?.has(base) ? base : undefined;
  }

  /** Whether the tree at `at` is the base of a later tree of the level. */
  isBase(at: number): boolean {
    const oid = this.level[at];
    return this.uses.has(oid) && this.levelIndex.get(oid) === at;
  }

  /** The base of the tree at `at`, about to be visited: `read` when toRead named it. */
  take(at: number, read: Buffer | undefined): TreeEntries | undefined {
    if (read) return treeEntries(read);
    const base = this.bases[at];
    if (base === undefined) return undefined;
    const entries = this.kept.get(base);
    // A base this level enters after this tree, or read for it in vain: none.
    const uses = this.uses.get(base);
    if (uses === undefined) return undefined;
    if (uses > 1) this.uses.set(base, uses - 1);
    else {
      this.uses.delete(base);
      if (entries) this.keptBytes -= entries.data.length;
      this.kept.delete(base);
    }
    return entries;
  }

  keep(at: number, entries: TreeEntries): void {
    if (this.keptBytes + entries.data.length > MAX_KEPT_BASE_BYTES) return;
    this.keptBytes += entries.data.length;
    this.kept.set(this.level[at], entries);
  }

  private entersBefore(base: ObjectId, at: number): boolean {
    const index = this.levelIndex.get(base);
    return index !== undefined && index < at;
  }
}
