import type { ObjectId } from '@gitfleet/git-format';
import type { Repository } from '@gitfleet/repository';
import { GITLINK_MODE, TREE_MODE } from './paths.js';
import { treeEntries, type StreamedTreeEntry } from './tree-entries.js';
import type { ChangeStatus } from './types.js';

/** One changed non-directory entry between two trees. */
export interface TreeChange {
  path: string;
  previousPath?: string;
  status: ChangeStatus;
  oldOid?: ObjectId;
  newOid?: ObjectId;
  /** Git's modes as numbers (0o100644, 0o160000…). */
  oldMode?: number;
  newMode?: number;
}

/**
 * Entries that differ between two trees, recursively, as `git diff-tree -r` lists them, with
 * exact renames (a removed and an added path with the same blob id and mode become one
 * 'renamed' change). Subtrees with equal ids are never read; the walk stops once `maxChanges`
 * changes are found (`truncated`). A file turned directory is a removal plus additions.
 * `before` undefined is the empty tree (a root commit). Sorted by path bytes: git's order.
 */
export async function treeChanges(
  repo: Repository,
  before: ObjectId | undefined,
  after: ObjectId,
  maxChanges: number,
): Promise<{ changes: TreeChange[]; truncated: boolean }> {
  const changes: TreeChange[] = [];
  let truncated = false;

  const note = (change: TreeChange): boolean => {
    if (changes.length >= maxChanges) {
      truncated = true;
      return false;
    }
    changes.push(change);
    return true;
  };

  /**
   * Both trees streamed side by side in git's order (a directory sorts as its name plus "/"),
   * so a tree of millions of entries is never held whole and the event loop gets its turns.
   */
  const walk = async (prefix: string, oldTree: ObjectId | undefined, newTree: ObjectId | undefined): Promise<boolean> => {
    const context = `diff of ${prefix || '/'}`;
    const olds = entriesOf(repo, oldTree, context);
    const news = entriesOf(repo, newTree, context);
    try {
      let oldEntry = await olds.next();
      let newEntry = await news.next();
      while (!oldEntry.done || !newEntry.done) {
        const order = oldEntry.done ? 1 : newEntry.done ? -1 : compareTreeOrder(oldEntry.value, newEntry.value);
        const old = order <= 0 ? (oldEntry.value as StreamedTreeEntry) : undefined;
        const added = order >= 0 ? (newEntry.value as StreamedTreeEntry) : undefined;
        if (old) oldEntry = await olds.next();
        if (added) newEntry = await news.next();
        if (old && added && old.oid === added.oid && old.mode === added.mode) continue;
        const path = prefix + (old ?? added)!.name;
        const oldIsTree = old?.mode === TREE_MODE;
        const newIsTree = added?.mode === TREE_MODE;
        if (oldIsTree || newIsTree) {
          if (!(await walk(`${path}/`, oldIsTree ? old!.oid : undefined, newIsTree ? added!.oid : undefined))) return false;
          continue;
        }
        const oldFile = old ? { oldOid: old.oid, oldMode: old.mode } : undefined;
        const newFile = added ? { newOid: added.oid, newMode: added.mode } : undefined;
        let noted: boolean;
        if (oldFile && newFile) noted = note({ path, status: 'modified', ...oldFile, ...newFile });
        else if (oldFile) noted = note({ path, status: 'removed', ...oldFile });
        else noted = note({ path, status: 'added', ...newFile });
        if (!noted) return false;
      }
      return true;
    } finally {
      await Promise.all([olds.return(undefined), news.return(undefined)]);
    }
  };

  await walk('', before, after);
  const result = pairExactRenames(changes);
  result.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  return { changes: result, truncated };
}

async function* noEntries(): AsyncGenerator<StreamedTreeEntry> {}

function entriesOf(repo: Repository, tree: ObjectId | undefined, context: string): AsyncGenerator<StreamedTreeEntry> {
  return tree === undefined ? noEntries() : treeEntries(repo, tree, context);
}

/** git's tree order: names as bytes, a directory's with a "/" after it (so "a" < "a.b" < "a/"). */
function compareTreeOrder(a: StreamedTreeEntry, b: StreamedTreeEntry): number {
  return Buffer.compare(Buffer.from(a.mode === TREE_MODE ? `${a.name}/` : a.name), Buffer.from(b.mode === TREE_MODE ? `${b.name}/` : b.name));
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
    oid !== undefined && oid !== EMPTY_BLOB && mode !== GITLINK_MODE;
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
