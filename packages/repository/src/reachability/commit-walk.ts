import type { ObjectId } from '@gitfleet/git-format';
import type { CommitReader } from './commits.js';
import { DateQueue } from './date-queue.js';
import { LoopPacer } from '../loop-pacer.js';

const QUEUED = 1;
const PROCESSED = 2;
const UNINTERESTING = 4;
/** Left out by the age limit; unlike UNINTERESTING it says nothing of what the client has. */
const TOO_OLD = 8;

export interface CommitWalkRequest {
  /** Commits whose history is wanted. */
  include: readonly ObjectId[];
  /** Commits whose history is excluded (the client has them). */
  exclude: readonly ObjectId[];
  /** Commits whose parents are not followed (shallow boundaries). */
  shallow?: ReadonlySet<ObjectId>;
  /** Commits older than this (committer time) are left out, and history is not followed through them. */
  notOlderThan?: number;
  /** Called with the number of commits selected so far, now and then. */
  onProgress?(selected: number): void;
  /**
   * The walk stops once more commits than this are selected, and says so (`exceeded`): a caller
   * whose work per new commit is bounded need not walk a history it would refuse anyway.
   */
  maxSelected?: number;
}

export interface CommitWalk {
  /** Selected commits: reachable from `include`, not from `exclude`, newest first. */
  commits: ObjectId[];
  /** Excluded commits that are parents of selected ones: where the client's history meets ours. */
  edges: ObjectId[];
  /** More than `maxSelected` commits were selected: the walk stopped, `commits` and `edges` are incomplete. */
  exceeded?: true;
}

/**
 * git's limited revision walk (`rev-list A --not B`): pops commits newest first, marks
 * everything reachable from an excluded commit as excluded (propagating through commits
 * already seen), and stops once only excluded commits are left to walk.
 */
export async function walkCommits(reader: CommitReader, request: CommitWalkRequest): Promise<CommitWalk> {
  const flags = new Map<ObjectId, number>();
  const queue = new DateQueue();
  const shallow = request.shallow;
  const notOlderThan = request.notOlderThan;
  let interestingQueued = 0;
  const selected: ObjectId[] = [];

  const enqueue = async (oid: ObjectId, uninteresting: boolean, context: string): Promise<void> => {
    const commit = await reader.commit(oid, context);
    flags.set(oid, QUEUED | (uninteresting ? UNINTERESTING : 0));
    if (!uninteresting) interestingQueued++;
    queue.push(oid, commit.time);
  };

  /** Marks `start` and every already-walked ancestor excluded (git's mark_parents_uninteresting). */
  const markUninteresting = async (start: ObjectId): Promise<void> => {
    const stack = [start];
    while (stack.length > 0) {
      const oid = stack.pop()!;
      const f = flags.get(oid);
      if (f === undefined || f & UNINTERESTING) continue;
      flags.set(oid, f | UNINTERESTING);
      if (f & QUEUED) {
        interestingQueued--;
        continue;
      }
      if (f & PROCESSED && !shallow?.has(oid)) {
        const commit = await reader.commit(oid, 'walked commit');
        for (const parent of commit.parents) stack.push(parent);
      }
    }
  };

  for (const oid of request.exclude) {
    if (!flags.has(oid)) await enqueue(oid, true, 'excluded commit');
    else await markUninteresting(oid);
  }
  for (const oid of request.include) {
    if (!flags.has(oid)) await enqueue(oid, false, 'wanted commit');
  }

  let lastReport = 0;
  // Commit reads that hit the caches resolve without a turn of the event loop: a walk of a
  // long history would hold it for seconds.
  const pacer = new LoopPacer();
  while (interestingQueued > 0) {
    await pacer.step();
    const oid = queue.pop()!;
    const f = flags.get(oid)!;
    flags.set(oid, (f & ~QUEUED) | PROCESSED);
    const uninteresting = (f & UNINTERESTING) !== 0;
    if (!uninteresting) interestingQueued--;
    const commit = await reader.commit(oid, 'walked commit');
    if (!uninteresting) {
      if (notOlderThan !== undefined && commit.time < notOlderThan) {
        // Left out like rev-list --max-age: its history is not followed through it.
        flags.set(oid, (f & ~QUEUED) | PROCESSED | TOO_OLD);
        continue;
      }
      selected.push(oid);
      // Counted before the commits later found excluded are dropped: the bound may cut a little early, never late.
      if (request.maxSelected !== undefined && selected.length > request.maxSelected) return { commits: [], edges: [], exceeded: true };
      if (request.onProgress && selected.length - lastReport >= 1000) {
        lastReport = selected.length;
        request.onProgress(selected.length);
      }
    }
    if (shallow?.has(oid)) continue;
    const missing: ObjectId[] = [];
    for (const parent of commit.parents) {
      const pf = flags.get(parent);
      if (pf === undefined) missing.push(parent);
      else if (uninteresting && !(pf & UNINTERESTING)) await markUninteresting(parent);
    }
    if (missing.length === 1) {
      await enqueue(missing[0], uninteresting, `parent of ${oid}`);
    } else if (missing.length > 1) {
      await Promise.all(missing.map((parent) => reader.commit(parent, `parent of ${oid}`)));
      for (const parent of missing) if (!flags.has(parent)) await enqueue(parent, uninteresting, `parent of ${oid}`);
    }
  }

  const commits: ObjectId[] = [];
  const edges = new Set<ObjectId>();
  for (const oid of selected) {
    if (flags.get(oid)! & (UNINTERESTING | TOO_OLD)) continue;
    commits.push(oid);
    if (shallow?.has(oid)) continue;
    const commit = await reader.commit(oid, 'selected commit');
    for (const parent of commit.parents) {
      const pf = flags.get(parent);
      if (pf !== undefined && pf & UNINTERESTING) edges.add(parent);
    }
  }
  request.onProgress?.(commits.length);
  return { commits, edges: [...edges] };
}
