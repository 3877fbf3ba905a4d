import type { ObjectId } from '@gitfleet/git-format';
import { DateQueue, type Repository } from '@gitfleet/repository';
import { readCommit } from './commits.js';
import { diffTrees, type DiffOptions } from './diff.js';
import { RevisionNotFound } from './errors.js';
import { commitReader } from './objects.js';
import type { CommitInfo, DiffResult } from './types.js';

/** Commits walked on each side before a comparison of far-apart histories gives up counting. */
export const MAX_COMPARE_WALK = 10_000;
const DEFAULT_MAX_COMMITS = 250;

const FROM_HEAD = 1;
const FROM_BASE = 2;
const BOTH = FROM_HEAD | FROM_BASE;
/** Reached from a common commit: an ancestor of a merge base, never a merge base itself. */
const STALE = 4;

export interface Comparison {
  mergeBase?: ObjectId;
  aheadBy: number;
  behindBy: number;
  commits: CommitInfo[];
  diff: DiffResult;
  /** The walk stopped at MAX_COMPARE_WALK commits on a side: the counts are lower bounds and the merge base may be missing. */
  countsCapped?: boolean;
}

interface Side {
  flags: number;
  popped: boolean;
}

/**
 * base...head as GitHub's compare. One walk from both ends, newest commit first, paints each
 * commit with the sides it is reachable from (repainting already-walked ancestors when a
 * late path reaches them, so clock skew does not miscount) and stops when every commit still
 * queued is reachable from both: the first such commit not below another is the merge base,
 * and the commits painted with one side only are head's (ahead) and base's (behind).
 * `commits` are head's newest `maxCommits`, oldest first. The diff is merge-base..head, or
 * base..head when the histories share nothing (or the count was capped before meeting).
 */
export async function compare(
  repo: Repository,
  base: ObjectId,
  head: ObjectId,
  options: DiffOptions & { maxCommits?: number },
): Promise<Comparison> {
  const maxCommits = options.maxCommits ?? DEFAULT_MAX_COMMITS;
  const reader = commitReader(repo);
  const [baseCommit, headCommit] = await Promise.all([reader.tryCommit(base), reader.tryCommit(head)]);
  if (!baseCommit) throw new RevisionNotFound(`no commit ${base} in ${repo.info.owner}/${repo.info.name}`);
  if (!headCommit) throw new RevisionNotFound(`no commit ${head} in ${repo.info.owner}/${repo.info.name}`);

  const sides = new Map<ObjectId, Side>();
  const queue = new DateQueue();
  /**
   * Queued commits that are not yet settled (reachable from both ends through a common
   * commit): the walk runs while any is left, as git's merge-base walk runs while a queued
   * commit is not STALE.
   */
  let active = 0;
  /** Every commit walked, newest first. */
  const walkOrder: ObjectId[] = [];
  let aheadWalked = 0;
  let behindWalked = 0;
  let capped = false;

  const enqueue = async (oid: ObjectId, flags: number, context: string): Promise<void> => {
    const commit = await reader.commit(oid, context);
    sides.set(oid, { flags, popped: false });
    if (!settled(flags)) active++;
    queue.push(oid, commit.time);
  };

  /** Adds `flags` to `start` and, through commits already walked, to their ancestors. */
  const paint = async (start: ObjectId, flags: number): Promise<void> => {
    const stack: Array<[ObjectId, number]> = [[start, flags]];
    while (stack.length > 0) {
      const [oid, adding] = stack.pop()!;
      const side = sides.get(oid);
      if (!side || (side.flags | adding) === side.flags) continue;
      const wasSettled = settled(side.flags);
      side.flags |= adding;
      if (!side.popped) {
        if (!wasSettled && settled(side.flags)) active--;
        continue;
      }
      const inherited = inherit(side.flags);
      for (const parent of (await reader.commit(oid, 'walked commit')).parents) stack.push([parent, inherited]);
    }
  };

  await enqueue(head, FROM_HEAD, 'compare head');
  if (base === head) await paint(head, FROM_BASE);
  else await enqueue(base, FROM_BASE, 'compare base');

  let walked = 0;
  while (active > 0) {
    // Common history between several merge bases is walked too; it gets a bound of its own.
    if (aheadWalked >= MAX_COMPARE_WALK || behindWalked >= MAX_COMPARE_WALK || walked >= 3 * MAX_COMPARE_WALK) {
      capped = true;
      break;
    }
    const oid = queue.pop()!;
    const side = sides.get(oid)!;
    side.popped = true;
    walked++;
    walkOrder.push(oid);
    const flags = side.flags;
    if (!settled(flags)) active--;
    if ((flags & BOTH) === FROM_HEAD) aheadWalked++;
    else if ((flags & BOTH) === FROM_BASE) behindWalked++;
    const inherited = inherit(flags);
    for (const parent of (await reader.commit(oid, `compare ${base}...${head}`)).parents) {
      if (sides.has(parent)) await paint(parent, inherited);
      else await enqueue(parent, inherited, `parent of ${oid}`);
    }
  }

  // Painting after the pop (clock skew) can still turn a counted commit common, or a merge
  // base candidate stale: decide from the final flags.
  let aheadBy = 0;
  let behindBy = 0;
  let mergeBase: ObjectId | undefined;
  const aheadCommits: ObjectId[] = [];
  for (const oid of walkOrder) {
    const flags = sides.get(oid)!.flags;
    if ((flags & BOTH) === FROM_HEAD) {
      aheadBy++;
      if (aheadCommits.length < maxCommits) aheadCommits.push(oid);
    } else if ((flags & BOTH) === FROM_BASE) {
      behindBy++;
    } else if (mergeBase === undefined && !(flags & STALE)) {
      mergeBase = oid;
    }
  }
  aheadCommits.reverse();
  const commits = await Promise.all(aheadCommits.map((oid) => readCommit(repo, oid)));

  const diffBase = mergeBase ?? base;
  const diff = await diffTrees(repo, (await reader.commit(diffBase, 'compare diff base')).tree, headCommit.tree, options);
  const comparison: Comparison = { aheadBy, behindBy, commits, diff };
  if (mergeBase !== undefined) comparison.mergeBase = mergeBase;
  if (capped) comparison.countsCapped = true;
  return comparison;
}

/** What a commit passes to its parents: its sides, and STALE once it is common. */
function inherit(flags: number): number {
  return (flags & BOTH) === BOTH ? flags | STALE : flags;
}

function settled(flags: number): boolean {
  return (flags & (BOTH | STALE)) === (BOTH | STALE);
}
