/**
 * Locks enforced by the server: a pushed ref whose new commits change a path someone else has
 * locked is refused (receive-pack's refuseUpdate), whatever the client's lfs.locksverify says.
 *
 * "The paths a push changes" are judged commit by commit: each commit the push brings (its pack
 * holds it) against its parents, as git's history simplification does (TREESAME): a commit
 * changes a path when the path's entry (mode and id, or its absence) differs from that of every
 * parent, so a merge that takes one side's version changes nothing itself, and a change later
 * reverted within the same push is still a change. A rename is a removal and an addition, each
 * of a path. Commits already in the repository were judged when they came.
 *
 * Cost: one KV read of the locks per push (none for a push that only deletes refs); then, per
 * pushed ref, only the locked paths are looked up (along the paths, never a whole diff:
 * locked-entries.ts), for at most `maxChecks` (new commit × lock) pairs before the ref is refused.
 */
import { ZERO_OID, type ObjectId } from '@gitfleet/git-format';
import type { AppliedRefUpdate, PushedObjects } from '@gitfleet/protocol';
import { LoopPacer, type CommitInfo, type LfsLock, type LockStore, type Repository } from '@gitfleet/repository';
import { LockedEntries } from './locked-entries.js';

export interface LockedPathsPolicy {
  refuseUpdate(update: AppliedRefUpdate, pushed: PushedObjects): Promise<string | undefined>;
}

/** The policy of one push by `pusher`, whose own locks do not hold them back. */
export function lockedPathsPolicy(repo: Repository, locks: LockStore, pusher: string, maxChecks: number): LockedPathsPolicy {
  let othersLocks: Promise<{ held: LfsLock[]; entries: LockedEntries }> | undefined;
  const commits = repo.commitReader();
  // Commits and trees often come from caches at once: without turns, a long walk would hold the event loop.
  const pacer = new LoopPacer();
  /** What each new commit was found to change, shared by the refs of the push that bring it. */
  const verdicts = new Map<ObjectId, string | undefined>();
  /**
   * New commits whose whole new history passed (a ref's walk through them ended clean): another
   * ref of the push stops there, so a mirror push of many refs over one history walks it once.
   */
  const cleared = new Set<ObjectId>();

  const judge = async (
    oid: ObjectId,
    commit: CommitInfo,
    held: readonly LfsLock[],
    entries: LockedEntries,
  ): Promise<string | undefined> => {
    if (verdicts.has(oid)) return verdicts.get(oid);
    const after = await entries.in(commit.tree);
    const before = await Promise.all(
      commit.parents.map(async (parent) => entries.in((await commits.commit(parent, `parent of ${oid}`)).tree)),
    );
    const changed = held.find((lock) => {
      const entry = after.get(lock.path);
      return before.length === 0 ? entry !== undefined : before.every((parent) => parent.get(lock.path) !== entry);
    });
    const verdict =
      changed && `${changed.path} is locked by ${changed.owner} (lock ${changed.id}) and commit ${oid.slice(0, 12)} changes it`;
    verdicts.set(oid, verdict);
    return verdict;
  };

  return {
    async refuseUpdate(update, pushed) {
      if (update.newOid === ZERO_OID) return undefined;
      const { held, entries } = await (othersLocks ??= locks.all(repo.info.id).then((all) => {
        const others = all.filter((lock) => !sameUser(lock.owner, pusher));
        return {
          held: others,
          entries: new LockedEntries(
            repo,
            others.map((lock) => lock.path),
            pacer,
          ),
        };
      }));
      if (held.length === 0) return undefined;
      const peeled = await commits.peel(update.newOid);
      if (peeled?.type !== 'commit') return undefined;
      const maxCommits = Math.max(1, Math.floor(maxChecks / held.length));
      const seen = new Set<ObjectId>();
      const pending = [peeled.oid];
      while (pending.length > 0) {
        await pacer.step();
        const oid = pending.pop()!;
        if (seen.has(oid) || cleared.has(oid) || !pushed.received(oid)) continue;
        seen.add(oid);
        if (seen.size > maxCommits) {
          return `the push brings more than ${maxCommits} new commits to check against ${held.length} locked paths; push fewer commits at a time`;
        }
        const commit = await commits.commit(oid, `commit pushed to ${update.name}`);
        const verdict = await judge(oid, commit, held, entries);
        if (verdict !== undefined) return verdict;
        pending.push(...commit.parents);
      }
      for (const oid of seen) cleared.add(oid);
      return undefined;
    },
  };
}

/** User names are compared as the accounts compare them: case aside. */
function sameUser(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
