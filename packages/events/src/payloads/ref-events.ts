import { ZERO_OID, type ObjectId } from '@gitfleet/git-format';
import type { AppliedRefUpdate } from '@gitfleet/protocol';
import type { Ref, Repository } from '@gitfleet/repository';
import { commitsNotIn, isAncestor, newCommits } from './commit-range.js';
import { PushFileLists, type PayloadLimits } from './changed-paths.js';
import { pushCommit, type PushCommit } from './commit-object.js';
import { repositoryObject, repositoryUrls, userObject } from './github-objects.js';

/** GitHub lists at most this many commits in a push event, the newest ones. */
export const MAX_PUSH_COMMITS = 20;

export interface RefEventContext {
  pusher: { name: string; email: string };
  /** Public base URL of the server, e.g. "https://git.example.com". */
  baseUrl: string;
  /**
   * The branches and tags as they were just before the transaction (other refs are ignored):
   * what was already pushed. Read before the update, not after it, since by the time the
   * events are built other pushes may have moved the refs again.
   */
  refsBefore: readonly Ref[];
  /** How many files of how many tree entries the push's commits list (see PushFileLists). */
  limits: PayloadLimits;
}

export type RefEventName = 'push' | 'create' | 'delete';

export interface RefEvent {
  event: RefEventName;
  ref: string;
  payload: object;
}

const BRANCH_PREFIX = 'refs/heads/';
const TAG_PREFIX = 'refs/tags/';

/**
 * The webhook events of one committed ref transaction, in GitHub's shapes: per updated ref a
 * `push` (also for deletions), preceded by `create` for a new branch or tag and followed by
 * `delete` for a deleted one. `updates` are the ones applied; the refs before them
 * (context.refsBefore) tell which commits are new.
 */
export async function buildRefEvents(
  repo: Repository,
  updates: readonly AppliedRefUpdate[],
  context: RefEventContext,
): Promise<RefEvent[]> {
  if (updates.length === 0) return [];
  const reader = repo.commitReader();
  const fileLists = new PushFileLists(repo, context.limits);
  const now = new Date();
  const defaultBranch = shortRefName(await repo.refs.head());
  const urls = repositoryUrls(repo, context.baseUrl);
  const sender = userObject(context.pusher.name, context.baseUrl);
  const pushRepository = repositoryObject(repo, context.baseUrl, { defaultBranch, pushedAt: now, pushStyle: true });
  const eventRepository = repositoryObject(repo, context.baseUrl, { defaultBranch, pushedAt: now, pushStyle: false });

  const peelToCommit = async (oid: ObjectId): Promise<ObjectId | undefined> => {
    if (oid === ZERO_OID) return undefined;
    const peeled = await reader.peel(oid);
    return peeled?.type === 'commit' ? peeled.oid : undefined;
  };

  // Branch and tag tips as they were before this push: what "already pushed" means.
  const tipsBefore = new Map<string, ObjectId>(context.refsBefore.map((ref) => [ref.name, ref.oid]));
  // An applied update started from its old id, whatever a snapshot taken a moment earlier says.
  for (const update of updates) {
    if (update.oldOid === ZERO_OID) tipsBefore.delete(update.name);
    else tipsBefore.set(update.name, update.oldOid);
  }
  const tipsAfter = new Map(tipsBefore);
  for (const update of updates) {
    if (update.newOid === ZERO_OID) tipsAfter.delete(update.name);
    else tipsAfter.set(update.name, update.newOid);
  }
  const commitTipsBefore = new Map<string, ObjectId>();
  for (const [name, oid] of tipsBefore) {
    if (!name.startsWith(BRANCH_PREFIX) && !name.startsWith(TAG_PREFIX)) continue;
    const commit = await peelToCommit(oid);
    if (commit) commitTipsBefore.set(name, commit);
  }
  const branchTipsAfter = [...tipsAfter].filter(([name]) => name.startsWith(BRANCH_PREFIX)).map(([name, oid]) => ({ name, oid }));

  /** Commits already listed by an earlier ref of this push are not distinct in later ones. */
  const listedInThisPush = new Set<ObjectId>();
  const events: RefEvent[] = [];

  for (const update of updates) {
    const created = update.oldOid === ZERO_OID;
    const deleted = update.newOid === ZERO_OID;
    const newCommit = await peelToCommit(update.newOid);
    const oldCommit = await peelToCommit(update.oldOid);
    const otherTips = [...commitTipsBefore].filter(([name]) => name !== update.name).map(([, oid]) => oid);

    let listed: ObjectId[] = [];
    if (newCommit) {
      const exclude = created ? otherTips : oldCommit ? [oldCommit] : [];
      listed = await newCommits(reader, newCommit, exclude, MAX_PUSH_COMMITS);
    }
    const candidates = newCommit && !listed.includes(newCommit) ? [...listed, newCommit] : listed;
    // The old tip bounds the walk (everything listed is new to it) without changing the answer.
    const unseen = await commitsNotIn(reader, candidates, oldCommit ? [...otherTips, oldCommit] : otherTips);
    const isDistinct = (oid: ObjectId) => unseen.has(oid) && !listedInThisPush.has(oid);
    const commits: PushCommit[] = [];
    for (const oid of listed) commits.push(await pushCommit(repo.objects, fileLists, oid, isDistinct(oid), urls.html));
    let headCommit: PushCommit | null = null;
    if (newCommit) {
      // For a tag, the commit it points at (GitHub's head_commit), listed or not.
      headCommit =
        commits.find((commit) => commit.id === newCommit) ??
        (await pushCommit(repo.objects, fileLists, newCommit, isDistinct(newCommit), urls.html));
    }
    for (const oid of listed) listedInThisPush.add(oid);

    const forced =
      !created && !deleted && oldCommit !== undefined && newCommit !== undefined && !(await isAncestor(reader, oldCommit, newCommit));
    const baseRef = created && newCommit ? baseBranch(branchTipsAfter, update.name, newCommit, defaultBranch) : null;

    const refType = refTypeOf(update.name);
    const shortName = shortRefName(update.name);
    if (created && refType) {
      events.push({
        event: 'create',
        ref: update.name,
        payload: {
          ref: shortName,
          ref_type: refType,
          master_branch: defaultBranch,
          description: null,
          pusher_type: 'user',
          repository: eventRepository,
          sender,
        },
      });
    }
    events.push({
      event: 'push',
      ref: update.name,
      payload: {
        ref: update.name,
        before: update.oldOid,
        after: update.newOid,
        repository: pushRepository,
        pusher: { name: context.pusher.name, email: context.pusher.email },
        sender,
        created,
        deleted,
        forced,
        base_ref: baseRef,
        compare: compareUrl(urls.html, update, shortName),
        commits,
        head_commit: headCommit,
      },
    });
    if (deleted && refType) {
      events.push({
        event: 'delete',
        ref: update.name,
        payload: { ref: shortName, ref_type: refType, pusher_type: 'user', repository: eventRepository, sender },
      });
    }
  }
  return events;
}

function refTypeOf(name: string): 'branch' | 'tag' | undefined {
  if (name.startsWith(BRANCH_PREFIX)) return 'branch';
  if (name.startsWith(TAG_PREFIX)) return 'tag';
  return undefined;
}

/** "main" for refs/heads/main, "v1" for refs/tags/v1; other refs keep their full name. */
function shortRefName(name: string): string {
  for (const prefix of [BRANCH_PREFIX, TAG_PREFIX]) if (name.startsWith(prefix)) return name.slice(prefix.length);
  return name;
}

/**
 * GitHub sets base_ref when a new ref points at the tip of an existing branch (a tag of the
 * branch head, a branch made from another): that branch, the default one when several fit.
 */
function baseBranch(
  branchTips: ReadonlyArray<{ name: string; oid: ObjectId }>,
  refName: string,
  commit: ObjectId,
  defaultBranch: string,
): string | null {
  const matching = branchTips
    .filter((tip) => tip.name !== refName && tip.oid === commit)
    .map((tip) => tip.name)
    .sort();
  if (matching.length === 0) return null;
  const preferred = BRANCH_PREFIX + defaultBranch;
  return matching.includes(preferred) ? preferred : matching[0];
}

/** GitHub's compare links: the new ref's name when created, else abbreviated before...after. */
function compareUrl(htmlUrl: string, update: AppliedRefUpdate, shortName: string): string {
  if (update.oldOid === ZERO_OID) return `${htmlUrl}/compare/${shortName.split('/').map(encodeURIComponent).join('/')}`;
  return `${htmlUrl}/compare/${update.oldOid.slice(0, 12)}...${update.newOid.slice(0, 12)}`;
}
