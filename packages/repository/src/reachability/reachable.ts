import type { ObjectId } from '@gitfleet/git-format';
import { walkCommits } from './commit-walk.js';
import type { CommitReader } from './commits.js';

/**
 * The commits of `candidates` that are not reachable from `tips` (`rev-list candidates
 * --not tips`, what upload-pack runs for wants that are not ref tips).
 */
export async function unreachableCommits(
  reader: CommitReader,
  candidates: readonly ObjectId[],
  tips: readonly ObjectId[],
): Promise<ObjectId[]> {
  if (candidates.length === 0) return [];
  const walk = await walkCommits(reader, { include: candidates, exclude: tips });
  const selected = new Set(walk.commits);
  return candidates.filter((oid) => selected.has(oid));
}
