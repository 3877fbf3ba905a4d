import { FileMode, fileModeText, type ObjectId } from '@gitfleet/git-format';
import { treeEntries, type Repository } from '@gitfleet/repository';

/** "/a//b/" → "a/b": the form every path takes in results and lookups. */
export function normalizePath(path: string): string {
  return path
    .split('/')
    .filter((part) => part !== '')
    .join('/');
}

export interface FoundEntry {
  /** As a number, e.g. 0o100644. */
  mode: number;
  oid: ObjectId;
}

/**
 * The entry called `name` in a tree, streamed: a tree of millions of entries is scanned a chunk
 * at a time, never held whole, and the event loop gets its turns.
 */
async function findEntry(repo: Repository, tree: ObjectId, name: string, context: string): Promise<FoundEntry | undefined> {
  for await (const entry of treeEntries(repo, tree, context)) {
    if (entry.name === name) return { mode: entry.mode, oid: entry.oid };
  }
  return undefined;
}

/**
 * The entry at `path` (normalized, not empty) below the tree `root`; undefined when some
 * component is missing or is not a directory.
 */
export async function lookupPath(repo: Repository, root: ObjectId, path: string): Promise<FoundEntry | undefined> {
  let current: FoundEntry = { mode: FileMode.Dir, oid: root };
  for (const part of path.split('/')) {
    if (current.mode !== FileMode.Dir) return undefined;
    const found = await findEntry(repo, current.oid, part, `path ${path}`);
    if (!found) return undefined;
    current = found;
  }
  return current;
}

/**
 * For walks that ask for one path in many commits: the path's entry ("mode oid") in a root
 * tree, memoized per tree at every depth, so that a subtree shared by consecutive commits is
 * read once.
 */
export function pathEntryFinder(repo: Repository, path: string): (root: ObjectId) => Promise<string | undefined> {
  const parts = path.split('/');
  const memo = parts.map(() => new Map<ObjectId, string | undefined>());
  const below = async (tree: ObjectId, depth: number): Promise<string | undefined> => {
    const known = memo[depth];
    if (known.has(tree)) return known.get(tree);
    const found = await findEntry(repo, tree, parts[depth], `path ${path}`);
    let result: string | undefined;
    if (found && depth === parts.length - 1) result = `${fileModeText(found.mode)} ${found.oid}`;
    else if (found && found.mode === FileMode.Dir) result = await below(found.oid, depth + 1);
    known.set(tree, result);
    return result;
  };
  return (root) => below(root, 0);
}
