import type { ObjectId } from '@gitfleet/git-format';
import { MissingObjectError } from '../errors.js';
import { LoopPacer } from '../loop-pacer.js';
import type { ObjectReader } from '../object-reader.js';
import { CommitReader, type CommitGraphSource } from '../reachability/commits.js';
import type { ObjectFilter } from '../reachability/filter.js';
import { applyFilter } from './filter.js';
import { haveCommitsToEnter } from './have-frontier.js';
import type { PackBitmaps } from './pack-bitmaps.js';
import type { RepackLayers } from '../repack-tips-cache.js';
import { Reached, markReached, markWholePack, walkReach, type ReachRoots, type ReachWalkContext } from './reach-walk.js';

export interface BitmapReachabilityRequest {
  /** Objects asked for, of any type (tags are peeled; everything they reach is sent). */
  wants: readonly ObjectId[];
  /** Objects the client has (absent ones are ignored). */
  haves: readonly ObjectId[];
  /** Must be one bitmapsCanFilter accepts. */
  filter?: ObjectFilter;
}

export interface BitmapReachability {
  /** What to send: pack positions of the bitmapped pack, and objects outside it by id. */
  send: Reached;
  /** Everything reachable from the haves, the same way: what the client has. */
  clientHas: Reached;
}

/**
 * What a fetch must send, from a pack's bitmaps: the wants' reach (their bitmaps ORed, and a
 * walk of only what is newer than the bitmapped commits) AND NOT the haves' reach, then the
 * filter through the type bitmaps. Objects asked for by name are always sent.
 *
 * Unlike the plain walk, which leaves out only what the trees at the edge of the client's
 * history hold, this leaves out everything the haves reach in the bitmapped pack, and what the
 * trees of the haves and of the edges hold: a blob that comes back in a later commit is not
 * sent again.
 */
export async function bitmapReachability(
  objects: ObjectReader,
  bitmaps: PackBitmaps,
  request: BitmapReachabilityRequest,
  options: { cacheKey?: string; commitGraph?: CommitGraphSource; layers?: RepackLayers; pacer?: LoopPacer } = {},
): Promise<BitmapReachability> {
  const commits = new CommitReader(objects, options.cacheKey, options.commitGraph);
  const context: ReachWalkContext = {
    objects,
    commits,
    positions: bitmaps.positions,
    storedReach: (oid) => bitmaps.storedReach(oid),
    allowOutside: true,
    pacer: options.pacer ?? new LoopPacer(),
  };

  const send = Reached.forPack(bitmaps.positions);
  const { layers } = options;
  // Layers apply to a clone: no haves, no filter, the bitmaps of their clone pack.
  const cloneLayers = request.haves.length === 0 && !request.filter && layers?.clonePack === bitmaps.checksum ? layers : undefined;
  const wanted = cloneLayers && new Set(request.wants);
  // A clone of every branch and tag the last full repack was made from: the clone pack is their
  // reach, whole, and only the wants besides them are peeled and walked.
  const cloneTips = cloneLayers?.cloneTips;
  const wholeClonePack = wanted !== undefined && cloneTips !== undefined && containsEvery(wanted, cloneTips);
  if (wholeClonePack) send.bits.fill(bitmaps.positions.count);
  const wantRoots = await peelRoots(
    context,
    wholeClonePack ? request.wants.filter((oid) => !cloneTips.has(oid)) : request.wants,
    send,
    true,
  );
  const clientHas = Reached.forPack(bitmaps.positions);
  const haveRoots = await peelRoots(context, request.haves, clientHas, false);
  // Of the client's commits pushed since the last repack, only the trees of those it named are read, and of
  // those the wants' walk meets (the edges): reading every one made an incremental fetch cost what was pushed
  // since the repack.
  // One at a time, as the walk enqueues them: a request names up to hundreds of thousands of haves.
  const namedTrees: ObjectId[] = [];
  for (const oid of haveRoots.roots.commits) {
    await context.pacer.step();
    namedTrees.push((await commits.commit(oid, 'have')).tree);
  }
  await walkReach(context, { commits: haveRoots.roots.commits, trees: [...haveRoots.roots.trees, ...namedTrees] }, clientHas, {
    outsideTrees: false,
    enterOutside: await haveCommitsToEnter(context, haveRoots.roots.commits, wantRoots.roots.commits),
  });

  // A clone of every ref the last full repack was made from (a mirror): its rest pack is wanted
  // whole, and the walk meets it only where refs moved since. The clone pack written with it
  // holds none of its objects, and what the tips reach besides, so the walk takes that one.
  const rest = cloneLayers?.rest;
  if (wanted !== undefined && rest !== undefined && containsEvery(wanted, rest.tips)) {
    await markWholePack(context, send, await rest.index());
  }
  await walkReach(context, wantRoots.roots, send, { stop: clientHas });
  send.bits.andNot(clientHas.bits);

  const filtered = request.filter ? await applyFilter(send, bitmaps, objects, request.filter) : send;
  for (const { oid, type } of wantRoots.named) markReached(context, filtered, undefined, oid, type);
  return { send: filtered, clientHas };
}

interface PeeledRoots {
  roots: ReachRoots;
  /** Tags passed through and non-commit objects: sent whatever the filter when asked for by name. */
  named: { oid: ObjectId; type: 'tag' | 'tree' | 'blob' }[];
}

/** Peels `oids` into the commits and trees to walk from, marking tags and blobs in `into` at once. */
async function peelRoots(context: ReachWalkContext, oids: readonly ObjectId[], into: Reached, wanted: boolean): Promise<PeeledRoots> {
  const commits: ObjectId[] = [];
  const trees: ObjectId[] = [];
  const named: PeeledRoots['named'] = [];
  for (const oid of oids) {
    const peeled = await context.commits.peel(oid);
    if (!peeled) {
      if (wanted) throw new MissingObjectError(oid, 'wanted');
      continue;
    }
    for (const tag of peeled.chain) named.push({ oid: tag, type: 'tag' });
    if (peeled.type === 'commit') commits.push(peeled.oid);
    else if (peeled.type === 'tree') {
      trees.push(peeled.oid);
      named.push({ oid: peeled.oid, type: 'tree' });
    } else if (peeled.type === 'blob') named.push({ oid: peeled.oid, type: 'blob' });
  }
  for (const { oid, type } of named) if (type !== 'tree') markReached(context, into, undefined, oid, type);
  return { roots: { commits, trees }, named };
}

function containsEvery(wanted: ReadonlySet<ObjectId>, tips: ReadonlySet<ObjectId>): boolean {
  if (wanted.size < tips.size) return false;
  for (const tip of tips) if (!wanted.has(tip)) return false;
  return true;
}
