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
 *   repository already has changes no file on any existing branch (a branch deleted, then made
 *   again in another push, is such a new ref: only a rule against deleting it closes that way).
 *
 * Cost: one KV read of the locks per push (none for a push that only deletes refs), and for a
 * repository where others hold locks one listing of the refs and one walk for all the push's
 * refs (git's rev-list over the commit-graph where there is one); then only the locked paths are
 * looked up (along the paths, never a whole diff: locked-entries.ts). The push has one budget of
 * `maxChecks` (tree lookup × locked path) pairs, each commit costing a lookup of its tree and one
 * of each parent's, each update two more: the ref that would pass it, and every ref after it, is
 * refused with a message saying so; a push whose new commits alone pass it has every ref refused.
 */
import { ZERO_OID, type ObjectId } from '@gitfleet/git-format';
import type { AppliedRefUpdate, PushedObjects } from '@gitfleet/protocol';
import { LoopPacer, foldLockPath, walkCommits, type LfsLock, type LockStore, type Repository } from '@gitfleet/repository';
import { LockedEntries } from './locked-entries.js';

export interface LockedPathsPolicy {
  refuseUpdate(update: AppliedRefUpdate, pushed: PushedObjects): Promise<string | undefined>;
}

/** What one push checks against: the locks of others, and the commits no ref reached before it. */
interface PushScope {
  held: LfsLock[];
  entries: LockedEntries;
  /** Reachable from the new tips of the push and from no ref as it stood before the push. */
  newCommits: ReadonlySet<ObjectId>;
}

/** The policy of one push by `pusher`, whose own locks do not hold them back. */
export function lockedPathsPolicy(repo: Repository, locks: LockStore, pusher: string, maxChecks: number): LockedPathsPolicy {
  let scope: Promise<PushScope | undefined> | undefined;
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
  let checksLeft = maxChecks;
  let overBudget: string | undefined;

  const refuseOverBudget = (held: readonly LfsLock[]): string =>
    (overBudget ??= `the push brings more new commits than ${maxChecks} checks cover against ${held.length} locked paths; push fewer commits at a time`);

  /** Spends `lookups` tree lookups of the locked paths from the push's budget; false once it is gone. */
  const spend = (lookups: number, held: readonly LfsLock[]): boolean => {
    checksLeft -= lookups * held.length;
    if (checksLeft >= 0) return true;
    refuseOverBudget(held);
    return false;
  };

  const loadScope = async (updates: readonly AppliedRefUpdate[]): Promise<PushScope | undefined> => {
    const held = (await locks.all(repo.info.id)).filter((lock) => !sameUser(lock.owner, pusher));
    if (held.length === 0) return undefined;
    const [before, after] = await Promise.all([
      peeledCommits((await repo.refs.list()).map((ref) => ref.oid)),
      peeledCommits(updates.map((update) => update.newOid).filter((oid) => oid !== ZERO_OID)),
    ]);
    // One walk for every ref of the push: refs over one history (a mirror push) share it.
    const maxSelected = Math.floor(maxChecks / held.length);
    const walk = await walkCommits(commits, { include: after, exclude: before, maxSelected });
    if (walk.exceeded) refuseOverBudget(held);
    const entries = new LockedEntries(
      repo,
      held.map((lock) => lock.path),
      pacer,
    );
    return { held, entries, newCommits: new Set(walk.commits) };
  };

  /** The distinct commits that `oids` peel to (refs at trees or blobs have no history to judge). */
  const peeledCommits = async (oids: readonly ObjectId[]): Promise<ObjectId[]> => {
    const peeled = new Set<ObjectId>();
    for (const oid of oids) {
      await pacer.step();
      const target = await commits.peel(oid);
      if (target?.type === 'commit') peeled.add(target.oid);
    }
    return [...peeled];
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
    const seen = new Set<ObjectId>();
    const pending = [tip];
    while (pending.length > 0) {
      await pacer.step();
      const oid = pending.pop()!;
      if (seen.has(oid) || cleared.has(oid) || !push.newCommits.has(oid)) continue;
      seen.add(oid);
      const commit = await commits.commit(oid, 'new commit');
      if (!verdicts.has(oid) && !spend(1 + commit.parents.length, push.held)) return overBudget;
      const verdict = await judge(oid, push);
      if (verdict !== undefined) return verdict;
      pending.push(...commit.parents);
    }
    for (const oid of seen) cleared.add(oid);
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
    async refuseUpdate(update, pushed) {
      if (update.newOid === ZERO_OID) return undefined;
      const push = await (scope ??= loadScope(pushed.updates));
      if (!push) return undefined;
      if (overBudget !== undefined) return overBudget;
      const newTip = await commits.peel(update.newOid);
      if (newTip?.type !== 'commit') return undefined;
      const refused = await judgeNewCommits(newTip.oid, push);
      if (refused !== undefined) return refused;
      const oldTip = update.oldOid === ZERO_OID ? undefined : await commits.peel(update.oldOid);
      return oldTip?.type === 'commit' ? judgeTips(oldTip.oid, newTip.oid, push) : undefined;
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
