import { FileMode, fileModeText, parseCommit, type ObjectId } from '@gitfleet/git-format';
import { openTypedObject, treeEntries, type Repository } from '@gitfleet/repository';
import { blobSize } from './blob-sizes.js';
import { PathNotFound, RevisionNotFound } from './errors.js';
import { readBlobPrefix, readRequired, readTyped } from './objects.js';
import { lookupPath, normalizePath } from './paths.js';
import type { EntryType, FileContent, FileStream, TreeItem, TreeListing } from './types.js';

const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;
/**
 * Entries of one directory listed at most, as GitHub's contents API (1,000): a tree may hold
 * millions, and a page or answer of them all would cost seconds and megabytes for nobody.
 */
export const DEFAULT_MAX_TREE_ENTRIES = 1000;
/** git's binary heuristic looks for a NUL in this many leading bytes (buffer_is_binary). */
export const BINARY_PROBE_BYTES = 8000;

export function isBinary(content: Buffer): boolean {
  return content.subarray(0, BINARY_PROBE_BYTES).includes(0);
}

export function entryType(mode: number): EntryType {
  if (mode === FileMode.Dir) return 'tree';
  if (mode === FileMode.Submodule) return 'commit';
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
  if (normalized === '') return { name: '', path: '', mode: fileModeText(FileMode.Dir), type: 'tree', oid: root };
  const found = await lookupPath(repo, root, normalized);
  if (!found) throw new PathNotFound(`no path ${normalized} at ${commit}`);
  return {
    name: normalized.slice(normalized.lastIndexOf('/') + 1),
    path: normalized,
    mode: fileModeText(found.mode),
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

/** The first `maxEntries` entries of a directory in git's order, not sorted for display, without sizes. */
async function directoryEntries(
  repo: Repository,
  commit: ObjectId,
  path: string,
  maxEntries: number,
): Promise<{ entries: TreeItem[]; truncated: boolean }> {
  const directory = await entryAtPath(repo, commit, path);
  if (directory.type !== 'tree') throw new PathNotFound(`${directory.path} at ${commit} is not a directory`);
  const prefix = directory.path === '' ? '' : `${directory.path}/`;
  const entries: TreeItem[] = [];
  let truncated = false;
  for await (const entry of treeEntries(repo, directory.oid, `directory ${directory.path || '/'} of ${commit}`)) {
    if (entries.length >= maxEntries) {
      truncated = true;
      break;
    }
    entries.push({
      name: entry.name,
      path: prefix + entry.name,
      mode: fileModeText(entry.mode),
      type: entryType(entry.mode),
      oid: entry.oid,
    });
  }
  return { entries, truncated };
}

/**
 * A directory's entries with blob sizes, directories first then by name: at most
 * `maxEntries`, the first ones in git's order (`truncated` says there are more).
 */
export async function readTree(
  repo: Repository,
  commit: ObjectId,
  path: string,
  options: { maxEntries?: number } = {},
): Promise<TreeListing> {
  const { entries, truncated } = await directoryEntries(repo, commit, path, options.maxEntries ?? DEFAULT_MAX_TREE_ENTRIES);
  // One header per blob (no inflate of the content), run together, and remembered.
  const items = await Promise.all(entries.map((item) => withSize(repo, item)));
  items.sort((a, b) => {
    const aDir = a.type === 'tree' ? 0 : 1;
    const bDir = b.type === 'tree' ? 0 : 1;
    return aDir - bDir || compareNames(a.name, b.name);
  });
  return { entries: items, truncated };
}

function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export async function readFile(
  repo: Repository,
  commit: ObjectId,
  path: string,
  options: { maxBytes?: number } = {},
): Promise<FileContent> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_FILE_BYTES;
  const item = await fileAtPath(repo, commit, path);
  const context = `file ${item.path} of ${commit}`;
  // The size first: a file over the limit is read only as far as the limit.
  const size = await blobSize(repo, item.oid, context);
  const content =
    size > maxBytes ? await readBlobPrefix(repo, item.oid, maxBytes, context) : await readRequired(repo, item.oid, 'blob', context);
  return { path: item.path, oid: item.oid, mode: item.mode, size, content, truncated: size > maxBytes, binary: isBinary(content) };
}

/** A file's bytes as a stream, inflated as they are sent (see openObjectStream). */
export async function openFile(repo: Repository, commit: ObjectId, path: string): Promise<FileStream> {
  const item = await fileAtPath(repo, commit, path);
  const { size, stream } = await openTypedObject(repo, item.oid, 'blob', `file ${item.path} of ${commit}`);
  return { path: item.path, oid: item.oid, mode: item.mode, size, stream };
}

async function fileAtPath(repo: Repository, commit: ObjectId, path: string): Promise<TreeItem> {
  const item = await entryAtPath(repo, commit, path);
  if (item.type !== 'blob')
    throw new PathNotFound(`${item.path || '/'} at ${commit} is a ${item.type === 'tree' ? 'directory' : 'submodule'}, not a file`);
  return item;
}

/** GitHub's preference among README files; any other "readme.*" comes after these. */
const README_PREFERENCE = [
  'readme.md',
  'readme.markdown',
  'readme.mdown',
  'readme.rst',
  'readme.adoc',
  'readme.org',
  'readme.txt',
  'readme',
];

/** The README among the directory's first `maxEntries` entries (the ones a listing shows). */
export async function findReadme(
  repo: Repository,
  commit: ObjectId,
  directory = '',
  options: { maxEntries?: number } = {},
): Promise<TreeItem | undefined> {
  const { entries } = await directoryEntries(repo, commit, directory, options.maxEntries ?? DEFAULT_MAX_TREE_ENTRIES);
  const rank = (item: TreeItem): number => {
    const lower = item.name.toLowerCase();
    const preferred = README_PREFERENCE.indexOf(lower);
    if (preferred >= 0) return preferred;
    return lower.startsWith('readme.') ? README_PREFERENCE.length : -1;
  };
  let best: TreeItem | undefined;
  for (const item of entries) {
    // A symlink named README points somewhere else; only regular files are shown.
    if (item.type !== 'blob' || item.mode === fileModeText(FileMode.Symlink) || rank(item) < 0) continue;
    if (!best || rank(item) < rank(best)) best = item;
  }
  return best && withSize(repo, best);
}
