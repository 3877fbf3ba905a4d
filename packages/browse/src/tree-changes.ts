import { FileMode, type ObjectId } from '@gitfleet/git-format';
import { diffTrees, TreeTooDeep, type Repository, type TreeDiffEntry } from '@gitfleet/repository';
import type { ChangeStatus } from './types.js';

/** One changed non-directory entry between two trees, where an exact rename is one change. */
export interface TreeChange extends Omit<TreeDiffEntry, 'status'> {
  status: ChangeStatus;
  /** For a rename, the path it was moved from. */
  previousPath?: string;
}

/**
 * Entries that differ between two trees, recursively, as `git diff-tree -r` lists them, with
 * exact renames (a removed and an added path with the same blob id and mode become one
 * 'renamed' change). The trees are streamed (see diffTrees); the walk stops once `maxChanges`
 * changes are found, or at directories nested too deep (`truncated`). `before` undefined is the empty tree (a root commit).
 * Sorted by path bytes: git's order.
 */
export async function treeChanges(
  repo: Repository,
  before: ObjectId | undefined,
  after: ObjectId,
  maxChanges: number,
): Promise<{ changes: TreeChange[]; truncated: boolean }> {
  const changes: TreeChange[] = [];
  let truncated = false;
  try {
    for await (const change of diffTrees(repo, before, after)) {
      if (changes.length >= maxChanges) {
        truncated = true;
        break;
      }
      changes.push(change);
    }
  } catch (error) {
    // Directories nested deeper than git walks: what lies above them is shown, as incomplete.
    if (!(error instanceof TreeTooDeep)) throw error;
    truncated = true;
  }
  const result = pairExactRenames(changes);
  result.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  return { changes: result, truncated };
}

/** The empty blob: git does not take identical empty files for renames of each other. */
const EMPTY_BLOB = 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391';

/**
 * Pairs each added file with a removed one of the same blob id, in path order (one to one),
 * as git's exact rename detection does; the mode may change with the move. Submodules and
 * empty files are never paired.
 */
function pairExactRenames(changes: TreeChange[]): TreeChange[] {
  const candidate = (oid: ObjectId | undefined, mode: number | undefined): oid is ObjectId =>
    oid !== undefined && oid !== EMPTY_BLOB && mode !== FileMode.Submodule;
  const removedById = new Map<ObjectId, TreeChange[]>();
  for (const change of changes) {
    if (change.status !== 'removed' || !candidate(change.oldOid, change.oldMode)) continue;
    const list = removedById.get(change.oldOid);
    if (list) list.push(change);
    else removedById.set(change.oldOid, [change]);
  }
  if (removedById.size === 0) return changes;
  const consumed = new Set<TreeChange>();
  const result: TreeChange[] = [];
  for (const change of changes) {
    if (change.status !== 'added' || !candidate(change.newOid, change.newMode)) continue;
    const source = removedById.get(change.newOid)?.shift();
    if (!source) continue;
    consumed.add(source);
    consumed.add(change);
    result.push({ ...change, status: 'renamed', previousPath: source.path, oldOid: source.oldOid, oldMode: source.oldMode });
  }
  for (const change of changes) if (!consumed.has(change)) result.push(change);
  return result;
}
