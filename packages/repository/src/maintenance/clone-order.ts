import { FileMode, newTreeEntryPosition, readTreeEntryAt, type CommitGraphInput, type ObjectId } from '@gitfleet/git-format';
import { MissingObjectError } from '../errors.js';
import { LoopPacer } from '../loop-pacer.js';
import { OidSet } from '../oid-set.js';
import { walkCommits } from '../reachability/commit-walk.js';
import { CommitReader } from '../reachability/commits.js';
import { commonPrefixLength, RecentTrees } from '../reachability/recent-trees.js';
import type { Repository } from '../repository.js';
import { objectsOfPacksExcept } from './objects-of-packs.js';
import type { RepackTips } from './repack-tips.js';
import { SelectionBuilder, type ObjectSelection } from './selection.js';

type CloneSource = Pick<Repository, 'objects' | 'packs'>;

/** Reachable objects by kind, each list in the order git writes that kind. */
interface Reached {
  /** Every object met: which entry numbers the lists below hold. */
  seen: OidSet;
  commits: ObjectId[];
  tags: ObjectId[];
  trees: number[];
  blobs: number[];
  /** Each reachable commit's tree, parents and time: what its commit-graph records. */
  graph: CommitGraphInput[];
}

/**
 * Every object reachable from `tips.clone` in git's clone order, the order `git pack-objects`
 * writes a full repack in (its compute_write_order, without the delta families): commits newest
 * first (as `git rev-list` lists them), then tags, then trees, then blobs, trees and blobs in the
 * order git's object walk meets them (each commit's tree depth first, commits newest first), so
 * that a clone reads the new pack front to back. Then, in the same order, what only `tips.rest`
 * reaches. Each object is taken from the stored copy a read would use.
 *
 * Also every object of `fromPacks` that neither reaches, pack by pack in stored order: the
 * caller keeps those in a separate cruft pack, so that nothing a concurrent push may rely on
 * disappears; and every reachable commit as a commit-graph records them (every parent of one is
 * one of them).
 */
export async function cloneOrder(
  repo: CloneSource,
  tips: RepackTips,
  fromPacks: readonly string[],
  pacer = new LoopPacer(),
): Promise<{ reachable: ObjectSelection; rest: ObjectSelection; unreachable: ObjectSelection; commits: CommitGraphInput[] }> {
  const seen = new OidSet();
  const reader = new CommitReader(repo.objects);
  const recent = new RecentTrees();
  const clone = await reachableObjects(repo, reader, tips.clone, [], seen, recent, pacer);
  const rest = await reachableObjects(repo, reader, tips.rest, clone.commitTips, seen, recent, pacer);
  return {
    reachable: await locate(repo, clone, pacer),
    rest: await locate(repo, rest, pacer),
    unreachable: await objectsOfPacksExcept(repo.packs, fromPacks, seen, pacer),
    commits: [...clone.graph, ...rest.graph],
  };
}

/**
 * What `tips` reach of what is not in `seen` yet, added to `seen`; the history of `reachedFrom`
 * (commits whose reach `seen` holds already) is not walked again.
 */
async function reachableObjects(
  repo: CloneSource,
  reader: CommitReader,
  tips: readonly ObjectId[],
  reachedFrom: readonly ObjectId[],
  seen: OidSet,
  recent: RecentTrees,
  pacer: LoopPacer,
): Promise<Reached & { commitTips: ObjectId[] }> {
  const commitTips: ObjectId[] = [];
  const reached: Reached & { commitTips: ObjectId[] } = { seen, commits: [], tags: [], trees: [], blobs: [], graph: [], commitTips };
  const treeTips: ObjectId[] = [];
  for (const tip of tips) {
    const peeled = await reader.peel(tip);
    if (!peeled) throw new MissingObjectError(tip, 'tip to repack');
    for (const tag of peeled.chain) if (seen.add(tag)) reached.tags.push(tag);
    if (peeled.type === 'commit') commitTips.push(peeled.oid);
    else if (peeled.type === 'tree') treeTips.push(peeled.oid);
    else if (peeled.type === 'blob' && seen.add(peeled.oid)) reached.blobs.push(seen.indexOf(peeled.oid));
  }
  const walk = await walkCommits(reader, { include: commitTips, exclude: reachedFrom });
  for (const oid of walk.commits) {
    if (seen.add(oid)) reached.commits.push(oid);
    await pacer.step();
  }
  for (const oid of walk.commits) {
    const { tree, parents, time } = await reader.commit(oid, 'commit to repack');
    reached.graph.push({ oid, tree, parents, commitTime: time });
    await walkTree(repo, tree, reached, recent, pacer);
  }
  for (const oid of treeTips) await walkTree(repo, oid, reached, recent, pacer);
  return reached;
}

/**
 * Adds the trees and blobs under `root` not met before, depth first in entry order (git's
 * process_tree): a tree before what it holds, so that trees come in the order git writes them.
 *
 * Most entries of a tree are those of the previous version of the same directory, all met
 * then: as in enumerateObjects, the entries of the prefix a tree shares with the last tree read
 * at its path are skipped without a lookup.
 */
async function walkTree(repo: CloneSource, root: ObjectId, reached: Reached, recent: RecentTrees, pacer: LoopPacer): Promise<void> {
  const { seen } = reached;
  if (!seen.add(root)) return;
  reached.trees.push(seen.indexOf(root));
  const stack: TreeInWalk[] = [await treeInWalk(repo, root, '', recent)];
  const entry = newTreeEntryPosition();
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top.at >= top.data.length) {
      stack.pop();
      continue;
    }
    top.at = readTreeEntryAt(top.data, top.at, entry);
    if (entry.mode === FileMode.Submodule || top.at <= top.known) continue;
    const added = seen.addBytes(top.data, entry.nameEnd + 1);
    if (added < 0) continue;
    if (entry.mode === FileMode.Dir) {
      reached.trees.push(added);
      const path = `${top.path}/${top.data.toString('latin1', entry.nameStart, entry.nameEnd)}`;
      stack.push(await treeInWalk(repo, seen.oidAt(added), path, recent));
      await pacer.step();
    } else reached.blobs.push(added);
  }
}

/** A tree being walked: its data, where its next entry starts, and how many of its bytes were met before. */
interface TreeInWalk {
  data: Buffer;
  at: number;
  path: string;
  known: number;
}

async function treeInWalk(repo: CloneSource, oid: ObjectId, path: string, recent: RecentTrees): Promise<TreeInWalk> {
  const data = await readTree(repo, oid);
  const known = commonPrefixLength(data, recent.get(path));
  recent.set(path, data);
  return { data, at: 0, path, known };
}

async function readTree(repo: CloneSource, oid: ObjectId): Promise<Buffer> {
  const object = await repo.objects.read(oid);
  if (!object) throw new MissingObjectError(oid, 'tree reachable from a tip to repack');
  if (object.type !== 'tree') throw new Error(`object ${oid} is a ${object.type}, where a tree was expected`);
  return object.data;
}

/** The reached objects in clone order, each at the stored copy a read would use. */
async function locate(repo: CloneSource, reached: Reached, pacer: LoopPacer): Promise<ObjectSelection> {
  const { seen } = reached;
  const builder = new SelectionBuilder();
  const add = async (entry: number): Promise<void> => {
    const oid = seen.oidAt(entry);
    const found = repo.packs.lookupLoaded(oid) ?? (await repo.packs.lookup(oid));
    if (!found) throw new MissingObjectError(oid, 'reachable from a tip to repack');
    builder.addBytes(seen.bytesAt(entry), 0, found.pack.checksum, found.offset);
    await pacer.step();
  };
  for (const oid of reached.commits) await add(seen.indexOf(oid));
  for (const oid of reached.tags) await add(seen.indexOf(oid));
  for (const entry of reached.trees) await add(entry);
  for (const entry of reached.blobs) await add(entry);
  return builder.build();
}
