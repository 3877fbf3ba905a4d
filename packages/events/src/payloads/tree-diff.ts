import { parseTree, type ObjectId, type TreeEntry } from '@gitfleet/git-format';
import type { ObjectDB } from '@gitfleet/repository';

export interface ChangedPaths {
  added: string[];
  removed: string[];
  modified: string[];
}

const TREE_MODE = '40000';

/**
 * Beyond this many changed paths in one commit the lists are left empty, as GitHub does for
 * commits too large to list ("may be empty even if files were added"): a payload naming every
 * file of a 100 000-file import would be megabytes that no consumer reads.
 */
export const MAX_CHANGED_PATHS = 3000;

class TooManyPaths extends Error {}

/**
 * Files added, removed and modified between two trees, as `git diff-tree -r --name-status`
 * without rename detection lists them (a rename is a removal plus an addition, a file turned
 * into a directory is a removal plus additions). Subtrees with equal ids are never read.
 * `before` undefined means the empty tree (a root commit).
 */
export async function changedPaths(objects: Pick<ObjectDB, 'read'>, before: ObjectId | undefined, after: ObjectId): Promise<ChangedPaths> {
  const changes: ChangedPaths = { added: [], removed: [], modified: [] };
  let count = 0;
  const note = (list: string[], path: string) => {
    if (++count > MAX_CHANGED_PATHS) throw new TooManyPaths();
    list.push(path);
  };

  const readTree = async (oid: ObjectId | undefined): Promise<TreeEntry[]> => {
    if (oid === undefined) return [];
    const object = await objects.read(oid);
    if (!object) throw new Error(`tree ${oid} is missing`);
    if (object.type !== 'tree') throw new Error(`object ${oid} is a ${object.type}, expected a tree`);
    return parseTree(object.data);
  };

  const diff = async (prefix: string, beforeTree: ObjectId | undefined, afterTree: ObjectId | undefined): Promise<void> => {
    const [oldEntries, newEntries] = await Promise.all([readTree(beforeTree), readTree(afterTree)]);
    const oldByName = new Map(oldEntries.map((entry) => [entry.name, entry]));
    const newByName = new Map(newEntries.map((entry) => [entry.name, entry]));
    for (const name of new Set([...oldByName.keys(), ...newByName.keys()])) {
      const oldEntry = oldByName.get(name);
      const newEntry = newByName.get(name);
      if (oldEntry && newEntry && oldEntry.oid === newEntry.oid && oldEntry.mode === newEntry.mode) continue;
      const path = prefix + name;
      const oldIsTree = oldEntry?.mode === TREE_MODE;
      const newIsTree = newEntry?.mode === TREE_MODE;
      if (oldIsTree || newIsTree) {
        await diff(`${path}/`, oldIsTree ? oldEntry.oid : undefined, newIsTree ? newEntry.oid : undefined);
      }
      const oldIsFile = oldEntry !== undefined && !oldIsTree;
      const newIsFile = newEntry !== undefined && !newIsTree;
      if (oldIsFile && newIsFile) note(changes.modified, path);
      else if (oldIsFile) note(changes.removed, path);
      else if (newIsFile) note(changes.added, path);
    }
  };

  try {
    await diff('', before, after);
  } catch (error) {
    if (error instanceof TooManyPaths) return { added: [], removed: [], modified: [] };
    throw error;
  }
  // Sorting whole paths by their bytes gives git's tree order ("a.txt" < "a/b" as '.' < '/').
  for (const list of [changes.added, changes.removed, changes.modified]) list.sort(compareBytes);
  return changes;
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
