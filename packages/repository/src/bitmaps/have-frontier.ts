import type { ObjectId } from '@gitfleet/git-format';
import { DateQueue } from '../reachability/date-queue.js';
import type { ReachWalkContext } from './reach-walk.js';

const HAVE = 1;
const WANT = 2;

/** Commits popped after none but the haves' is queued any more, for dates out of order (git's SLOP in revision.c). */
const SLOP = 5;

/**
 * Of the commits pushed since the bitmapped pack, those on the haves' side that a fetch needs to
 * enter (walk the parents of): git's limit_list, the haves and wants walked together newest first
 * until for SLOP commits every one queued is reached from a have.
 *
 * Without this, the haves' walk went down every commit pushed since the last full repack before
 * the wants' walk could start, although the wants' walk stops at the first commit of the client
 * it meets: a fetch of one new commit on a repository with 10,000 commits past its bitmaps read
 * all 10,000. A have commit that is not entered is still marked as the client's; what lies
 * below it is the client's too, and the wants' walk does not get there unless dates lie by
 * more than SLOP commits, when it sends some objects the client has (never fewer than it lacks).
 *
 * Undefined (enter every one) when there is no have, or when the wants' side reaches the pack:
 * then what the client has there must come from the bitmaps of its commits in the pack, below
 * all of its commits since.
 */
export async function haveCommitsToEnter(
  context: ReachWalkContext,
  haves: readonly ObjectId[],
  wants: readonly ObjectId[],
): Promise<Set<ObjectId> | undefined> {
  if (haves.length === 0) return undefined;
  const { commits, positions, pacer } = context;
  const flags = new Map<ObjectId, number>();
  const queue = new DateQueue();
  /** Queue entries of each commit (one that the haves reach after it was popped is queued again). */
  const queued = new Map<ObjectId, number>();
  /** Queue entries of commits only the wants reach so far. */
  let wantsOnly = 0;
  let wantsReachPack = false;

  const reach = async (oid: ObjectId, flag: number, why: string): Promise<void> => {
    const had = flags.get(oid) ?? 0;
    // The haves' side already (whatever else reaches it), or nothing new.
    if (had & HAVE || had === flag) return;
    flags.set(oid, had | flag);
    if (positions.positionOf(oid) >= 0) {
      if (flag === WANT) wantsReachPack = true;
      return;
    }
    const entries = queued.get(oid) ?? 0;
    if (had === WANT) {
      // Only the wants reached it so far: queued, it is popped as the haves' now; popped, it is queued again to tell its parents.
      wantsOnly -= entries;
      if (entries > 0) return;
    }
    queue.push(oid, (await commits.commit(oid, why)).time);
    queued.set(oid, entries + 1);
    if ((had | flag) === WANT) wantsOnly++;
  };

  for (const oid of haves) {
    await pacer.step();
    await reach(oid, HAVE, 'have');
  }
  for (const oid of wants) {
    await pacer.step();
    await reach(oid, WANT, 'wanted commit');
  }
  const enter = new Set<ObjectId>();
  let slop = SLOP;
  for (let oid = queue.pop(); oid !== undefined && !wantsReachPack; oid = queue.pop()) {
    await pacer.step();
    const entries = queued.get(oid)! - 1;
    if (entries > 0) queued.set(oid, entries);
    else queued.delete(oid);
    const flag = flags.get(oid)!;
    if (flag === WANT) wantsOnly--;
    const parentFlag = flag & HAVE ? HAVE : WANT;
    if (flag & HAVE) enter.add(oid);
    for (const parent of (await commits.commit(oid, 'walked commit')).parents) await reach(parent, parentFlag, `parent of ${oid}`);
    if (wantsOnly > 0) slop = SLOP;
    else if (--slop <= 0) break;
  }
  return wantsReachPack ? undefined : enter;
}
