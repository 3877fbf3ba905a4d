import { parseCommit, parseTree, type ObjectId, type TreeEntry } from '@gitfleet/git-format';
import type { Repository } from '@gitfleet/repository';
import { blobSize } from './blob-sizes.js';
import { PathNotFound, RevisionNotFound } from './errors.js';
import { readRequired, readTyped } from './objects.js';
import { GITLINK_MODE, TREE_MODE, lookupPath, normalizePath } from './paths.js';
import type { EntryType, FileContent, TreeItem } from './types.js';

const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;
/** git's binary heuristic looks for a NUL in this many leading bytes (buffer_is_binary). */
export const BINARY_PROBE_BYTES = 8000;

export function isBinary(content: Buffer): boolean {
  return content.subarray(0, BINARY_PROBE_BYTES).includes(0);
}

export function entryType(mode: number): EntryType {
  if (mode === TREE_MODE) return 'tree';
  if (mode === GITLINK_MODE) return 'commit';
  return 'blob';
}

/** The root tree of a commit; RevisionNotFound when `commit` is not one. */
export async function rootTree(repo: Repository, commit: ObjectId): Promise<ObjectId> {
  const data = await readTyped(repo, commit, 'commit');
  if (!data) throw new RevisionNotFound(`no commit ${commit} in ${repo.info.owner}/${repo.info.name}`);
  return parseCommit(data).tree;
}

/** The entry at `path` without its size; PathNotFound when absent. */
async function entryAtPath(repo: Repository, commit: ObjectId, path: string): Promise<TreeItem> {
  const normalized = normalizePath(path);
  const root = await rootTree(repo, commit);
  if (normalized === '') return { name: '', path: '', mode: TREE_MODE.toString(8), type: 'tree', oid: root };
  const found = await lookupPath(repo, root, normalized);
  if (!found) throw new PathNotFound(`no path ${normalized} at ${commit}`);
  return {
    name: normalized.slice(normalized.lastIndexOf('/') + 1),
    path: normalized,
    mode: found.mode.toString(8),
    type: entryType(found.mode),
    oid: found.oid,
  };
}

async function withSize(repo: Repository, item: TreeItem): Promise<TreeItem> {
  if (item.type !== 'blob') return item;
  return { ...item, size: await blobSize(repo, item.oid, `path ${item.path}`) };
}

export async function statPath(repo: Repository, commit: ObjectId, path: string): Promise<TreeItem> {
  return withSize(repo, await entryAtPath(repo, commit, path));
}

/** Entries of a directory, not sorted, without sizes. */
async function directoryEntries(repo: Repository, commit: ObjectId, path: string): Promise<{ directory: TreeItem; entries: TreeItem[] }> {
  const directory = await entryAtPath(repo, commit, path);
  if (directory.type !== 'tree') throw new PathNotFound(`${directory.path} at ${commit} is not a directory`);
  const data = await readRequired(repo, directory.oid, 'tree', `directory ${directory.path || '/'} of ${commit}`);
  const prefix = directory.path === '' ? '' : `${directory.path}/`;
  const entries = parseTree(data).map((entry: TreeEntry): TreeItem => {
    const mode = parseInt(entry.mode, 8);
    return { name: entry.name, path: prefix + entry.name, mode: mode.toString(8), type: entryType(mode), oid: entry.oid };
  });
  return { directory, entries };
}

export async function readTree(repo: Repository, commit: ObjectId, path: string): Promise<TreeItem[]> {
  const { entries } = await directoryEntries(repo, commit, path);
  // One header per blob (no inflate of the content), run together, and remembered.
  const items = await Promise.all(entries.map((item) => withSize(repo, item)));
  return items.sort((a, b) => {
    const aDir = a.type === 'tree' ? 0 : 1;
    const bDir = b.type === 'tree' ? 0 : 1;
    return aDir - bDir || compareNames(a.name, b.name);
  });
}

function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export async function readFile(repo: Repository, commit: ObjectId, path: string, options: { maxBytes?: number } = {}): Promise<FileContent> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_FILE_BYTES;
  const item = await entryAtPath(repo, commit, path);
  if (item.type !== 'blob') throw new PathNotFound(`${item.path || '/'} at ${commit} is a ${item.type === 'tree' ? 'directory' : 'submodule'}, not a file`);
  const data = await readRequired(repo, item.oid, 'blob', `file ${item.path} of ${commit}`);
  return {
    path: item.path,
    oid: item.oid,
    mode: item.mode,
    size: data.length,
    content: data.length > maxBytes ? Buffer.from(data.subarray(0, maxBytes)) : data,
    truncated: data.length > maxBytes,
    binary: isBinary(data),
  };
}

/** GitHub's preference among README files; any other "readme.*" comes after these. */
const README_PREFERENCE = ['readme.md', 'readme.markdown', 'readme.mdown', 'readme.rst', 'readme.adoc', 'readme.org', 'readme.txt', 'readme'];

export async function findReadme(repo: Repository, commit: ObjectId, directory = ''): Promise<TreeItem | undefined> {
  const { entries } = await directoryEntries(repo, commit, directory);
  const rank = (item: TreeItem): number => {
    const lower = item.name.toLowerCase();
    const preferred = README_PREFERENCE.indexOf(lower);
    if (preferred >= 0) return preferred;
    return lower.startsWith('readme.') ? README_PREFERENCE.length : -1;
  };
  let best: TreeItem | undefined;
  for (const item of entries) {
    // A symlink (120000) named README points somewhere else; only regular files are shown.
    if (item.type !== 'blob' || item.mode === '120000' || rank(item) < 0) continue;
    if (!best || rank(item) < rank(best)) best = item;
  }
  return best && withSize(repo, best);
}
