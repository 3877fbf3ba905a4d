/**
 * Locks enforced by the server: a pushed ref whose update changes a path someone else has
 * locked is refused (receive-pack's refuseUpdate), whatever the client's lfs.locksverify says.
 * Paths are compared folded (foldLockPath), as a case-insensitive client's checkout sees them.
 *
 * Two checks, both for every ref a push creates or moves:
 * - The new commits: those reachable from the new tip and from no ref as the refs stood before
 *   the push (`rev-list <new> --not --all`), whether this push's pack brought them or an earlier,
 *   refused push left them stored. Each is judged against its parents, as git's history
 *   simplification does (TREESAME): a commit changes a path when the path's entry (mode and id,
 *   or its absence) differs from that of every parent, so a merge that takes one side's version
 *   changes nothing itself, and a change later reverted within the same push is still a change.
 *   A rename is a removal and an addition, each of a path. Commits some ref reached before the
 *   push were judged when they came (or came before the lock).
 * - For an update of an existing ref, the old tip against the new: a locked path must not differ
 *   between them, so a fast-forward or a merge cannot bring onto the branch a change made before
 *   the lock was taken (nor one the holder made elsewhere: she brings it in herself). A new ref
 *   has no old tip: it is refused only for its new commits, since pointing a name at history the
 *   repository already has changes no file on any existing branch.
 *
 * Cost: one KV read of the locks and one listing of the refs per push (none for a push that only
 * deletes refs, or a repository without locks held by others); then only the locked paths are
 * looked up (along the paths, never a whole diff: locked-entries.ts). The push has one budget of
 * `maxChecks` (tree lookup × locked path) pairs, each commit costing a lookup of its tree and one
 * of each parent's, each update two more: the ref that would pass it, and every ref after it, is
 * refused with a message saying so.
 */
import { ZERO_OID, type ObjectId } from '@gitfleet/git-format';
import type { AppliedRefUpdate } from '@gitfleet/protocol';
import { LoopPacer, foldLockPath, walkCommits, type LfsLock, type LockStore, type Repository } from '@gitfleet/repository';
import { LockedEntries } from './locked-entries.js';

export interface LockedPathsPolicy {
  refuseUpdate(update: AppliedRefUpdate): Promise<string | undefined>;
}

/** What one push checks against: the locks of others, and where the history already judged ends. */
interface PushScope {
  held: LfsLock[];
  entries: LockedEntries;
  /** The commits the refs reached before the push, then also the new tips of refs that passed. */
  judgedTips: Set<ObjectId>;
}

/** The policy of one push by `pusher`, whose own locks do not hold them back. */
export function lockedPathsPolicy(repo: Repository, locks: LockStore, pusher: string, maxChecks: number): LockedPathsPolicy {
  let scope: Promise<PushScope | undefined> | undefined;
  const commits = repo.commitReader();
  // Commits and trees often come from caches at once: without turns, a long walk would hold the event loop.
  const pacer = new LoopPacer();
  /** What each new commit was found to change, shared by the refs of the push that bring it. */
  const verdicts = new Map<ObjectId, string | undefined>();
  let checksLeft = maxChecks;
  let overBudget: string | undefined;

  /** Spends `lookups` tree lookups of the locked paths from the push's budget; false once it is gone. */
  const spend = (lookups: number, held: readonly LfsLock[]): boolean => {
    checksLeft -= lookups * held.length;
    if (checksLeft >= 0) return true;
    overBudget = `the push brings more new commits than ${maxChecks} checks cover against ${held.length} locked paths; push fewer commits at a time`;
    return false;
  };

  const loadScope = async (): Promise<PushScope | undefined> => {
    const held = (await locks.all(repo.info.id)).filter((lock) => !sameUser(lock.owner, pusher));
    if (held.length === 0) return undefined;
    const judgedTips = new Set<ObjectId>();
    for (const ref of await repo.refs.list()) {
      await pacer.step();
      const peeled = await commits.peel(ref.oid);
      if (peeled?.type === 'commit') judgedTips.add(peeled.oid);
    }
    const entries = new LockedEntries(
      repo,
      held.map((lock) => lock.path),
      pacer,
    );
    return { held, entries, judgedTips };
  };

  const judge = async (oid: ObjectId, { held, entries }: PushScope): Promise<string | undefined> => {
    if (verdicts.has(oid)) return verdicts.get(oid);
    const commit = await commits.commit(oid, 'new commit');
    const after = await entries.in(commit.tree);
    const before = await Promise.all(
      commit.parents.map(async (parent) => entries.in((await commits.commit(parent, `parent of ${oid}`)).tree)),
    );
    const changed = held.find((lock) => {
      const entry = after.get(foldLockPath(lock.path));
      return before.length === 0 ? entry !== undefined : before.every((parent) => parent.get(foldLockPath(lock.path)) !== entry);
    });
    const verdict = changed && `${lockedBy(changed)} and commit ${oid.slice(0, 12)} changes it`;
    verdicts.set(oid, verdict);
    return verdict;
  };

  /** The first new commit of `tip` that changes a locked path, or the budget's refusal. */
  const judgeNewCommits = async (tip: ObjectId, push: PushScope): Promise<string | undefined> => {
    // A name for a commit that a ref pointed at before, or that another ref of the push brought: nothing new to walk.
    if (push.judgedTips.has(tip)) return undefined;
    const maxSelected = Math.max(0, Math.floor(checksLeft / push.held.length));
    const walk = await walkCommits(commits, { include: [tip], exclude: [...push.judgedTips], maxSelected });
    if (walk.exceeded) {
      spend(maxSelected + 1, push.held);
      return overBudget;
    }
    for (const oid of walk.commits) {
      await pacer.step();
      if (!verdicts.has(oid) && !spend(1 + (await commits.commit(oid, 'new commit')).parents.length, push.held)) return overBudget;
      const verdict = await judge(oid, push);
      if (verdict !== undefined) return verdict;
    }
    return undefined;
  };

  /** A locked path whose entry differs between the ref's old tip and its new one. */
  const judgeTips = async (oldTip: ObjectId, newTip: ObjectId, { held, entries }: PushScope): Promise<string | undefined> => {
    if (!spend(2, held)) return overBudget;
    const [before, after] = await Promise.all(
      [oldTip, newTip].map(async (oid) => entries.in((await commits.commit(oid, 'pushed ref tip')).tree)),
    );
    const changed = held.find((lock) => before.get(foldLockPath(lock.path)) !== after.get(foldLockPath(lock.path)));
    return changed && `${lockedBy(changed)} and the update from ${oldTip.slice(0, 12)} to ${newTip.slice(0, 12)} changes it`;
  };

  return {
    async refuseUpdate(update) {
      if (update.newOid === ZERO_OID) return undefined;
      const push = await (scope ??= loadScope());
      if (!push) return undefined;
      if (overBudget !== undefined) return overBudget;
      const newTip = await commits.peel(update.newOid);
      if (newTip?.type !== 'commit') return undefined;
      const refused = await judgeNewCommits(newTip.oid, push);
      if (refused !== undefined) return refused;
      const oldTip = update.oldOid === ZERO_OID ? undefined : await commits.peel(update.oldOid);
      if (oldTip?.type === 'commit') {
        const changed = await judgeTips(oldTip.oid, newTip.oid, push);
        if (changed !== undefined) return changed;
      }
      // Its new history passed: another ref of the push stops there, so a mirror push of many refs over one history walks it once.
      push.judgedTips.add(newTip.oid);
      return undefined;
    },
  };
}

function lockedBy(lock: LfsLock): string {
  return `${lock.path} is locked by ${lock.owner} (lock ${lock.id})`;
}

/** User names are compared as the accounts compare them: case aside. */
function sameUser(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
