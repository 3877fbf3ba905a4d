import type { ObjectId } from '@gitfleet/git-format';
import { unreachableCommits, walkCommits, type CommitReader } from '@gitfleet/repository';

/**
 * The newest `limit` commits reachable from `tip` and not from `exclude`, oldest first (the
 * order of `git rev-list --reverse`). With nothing to exclude (the first push to a
 * repository) every ancestor is new, and the walk stops after `limit` commits instead of
 * reading the whole history.
 */
export async function newCommits(reader: CommitReader, tip: ObjectId, exclude: readonly ObjectId[], limit: number): Promise<ObjectId[]> {
  if (exclude.length === 0) return (await newestAncestors(reader, tip, limit)).reverse();
  const walk = await walkCommits(reader, { include: [tip], exclude });
  return walk.commits.slice(0, limit).reverse();
}

/** `git rev-list --max-count=<limit> <tip>`: newest first by committer date. */
async function newestAncestors(reader: CommitReader, tip: ObjectId, limit: number): Promise<ObjectId[]> {
  const selected: ObjectId[] = [];
  const seen = new Set<ObjectId>([tip]);
  // The frontier stays small (it grows by one per merge parent) and `limit` is tiny, so a
  // linear scan for the newest beats a heap here.
  const frontier: Array<{ oid: ObjectId; time: number }> = [{ oid: tip, time: (await reader.commit(tip, 'pushed commit')).time }];
  while (frontier.length > 0 && selected.length < limit) {
    let newest = 0;
    for (let i = 1; i < frontier.length; i++) if (frontier[i].time > frontier[newest].time) newest = i;
    const [{ oid }] = frontier.splice(newest, 1);
    selected.push(oid);
    for (const parent of (await reader.commit(oid, 'pushed commit')).parents) {
      if (seen.has(parent)) continue;
      seen.add(parent);
      frontier.push({ oid: parent, time: (await reader.commit(parent, `parent of ${oid}`)).time });
    }
  }
  return selected;
}

/**
 * Whether `ancestor` is reachable from `descendant` (`git merge-base --is-ancestor`). The walk
 * `rev-list ancestor --not descendant` is bounded: it stops as soon as everything still queued
 * is known to be reachable from `descendant`, i.e. at the merge base.
 */
export async function isAncestor(reader: CommitReader, ancestor: ObjectId, descendant: ObjectId): Promise<boolean> {
  if (ancestor === descendant) return true;
  return (await unreachableCommits(reader, [ancestor], [descendant])).length === 0;
}

/** The commits of `candidates` reachable from none of `tips` (with no tips: all of them). */
export async function commitsNotIn(
  reader: CommitReader,
  candidates: readonly ObjectId[],
  tips: readonly ObjectId[],
): Promise<Set<ObjectId>> {
  if (tips.length === 0) return new Set(candidates);
  return new Set(await unreachableCommits(reader, candidates, tips));
}
