import type { ObjectId } from '@gitfleet/git-format';

export interface CandidateCommit {
  oid: ObjectId;
  /** Committer time. */
  time: number;
  isMerge: boolean;
}

/** Below this many commits, every commit gets a bitmap (git's pack-bitmap-write.c). */
const SELECT_ALL_BELOW = 100;
/** The newest commits, all of which get a bitmap: what fetches ask for most. */
const MUST_REGION = 100;
/** Up to this many commits from the newest, one in at most MIN_COMMITS gets a bitmap. */
const MIN_REGION = 20000;
const MIN_COMMITS = 100;
const MAX_COMMITS = 5000;
/**
 * Tips given a bitmap beyond those the spacing picks, newest first: a bitmap costs one bit per
 * object of the pack in memory until the file is written, and a repository may have thousands
 * of refs (one per pull request); a tip without a bitmap still starts close to one.
 */
export const MAX_EXTRA_TIP_BITMAPS = 256;

/** How many commits the selection skips after the one at `index` (newest first): git's next_commit_index. */
function nextCommitIndex(index: number): number {
  if (index <= MUST_REGION) return 0;
  if (index <= MIN_REGION) return Math.min(index - MUST_REGION, MIN_COMMITS);
  return Math.max(Math.min(index - MIN_REGION, MAX_COMMITS), MIN_COMMITS);
}

/**
 * The commits that get a bitmap, as git's bitmap_writer_select_commits picks them: commits
 * newest first; the newest hundred all; then one per window of a growing width, the first ref
 * tip in the window if any (git's NEEDS_BITMAP), else its last merge, else its last commit.
 * Every ref tip gets one as well, wherever it falls (the newest `maxExtraTips` of those the
 * spacing left out): a fetch of a ref then starts from a bitmap. Returned newest first.
 */
export function selectCommits(
  commits: readonly CandidateCommit[],
  tips: ReadonlySet<ObjectId>,
  maxExtraTips = MAX_EXTRA_TIP_BITMAPS,
): ObjectId[] {
  const byDate = [...commits].sort((a, b) => b.time - a.time);
  if (byDate.length < SELECT_ALL_BELOW) return byDate.map((c) => c.oid);
  const chosen: CandidateCommit[] = [];
  for (let i = 0; ;) {
    const next = nextCommitIndex(i);
    if (i + next >= byDate.length) break;
    let pick = byDate[i + next];
    if (next > 0) {
      for (let j = 0; j <= next; j++) {
        const candidate = byDate[i + j];
        if (tips.has(candidate.oid)) {
          pick = candidate;
          break;
        }
        if (candidate.isMerge) pick = candidate;
      }
    }
    chosen.push(pick);
    i += next + 1;
  }
  const selected = new Set(chosen.map((c) => c.oid));
  let extraTips = 0;
  for (const commit of byDate) {
    if (extraTips >= maxExtraTips) break;
    if (!tips.has(commit.oid) || selected.has(commit.oid)) continue;
    chosen.push(commit);
    extraTips++;
  }
  return chosen.sort((a, b) => b.time - a.time).map((c) => c.oid);
}
