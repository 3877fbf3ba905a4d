import type { ObjectId } from '@gitfleet/git-format';
import type { Repository } from '@gitfleet/repository';
import { blobSize } from './blob-sizes.js';
import { readCommit } from './commits.js';
import { diffTexts } from './line-diff.js';
import { readRequired } from './objects.js';
import { GITLINK_MODE } from './paths.js';
import { isBinary } from './tree.js';
import { treeChanges, type TreeChange } from './tree-diff.js';
import type { DiffLimits, DiffResult, FileDiff } from './types.js';

export const DEFAULT_DIFF_LIMITS: Required<DiffLimits> = { maxFiles: 300, maxFileBytes: 512 * 1024, maxLines: 20_000 };
/** Blob pairs read ahead of the one being diffed: hides the store's latency. */
const READ_AHEAD = 8;

/** A commit's changes against its first parent (a root commit: against the empty tree). */
export async function commitDiff(repo: Repository, commit: ObjectId, limits?: DiffLimits): Promise<DiffResult> {
  const info = await readCommit(repo, commit);
  const parent = info.parents.length > 0 ? await readCommit(repo, info.parents[0]) : undefined;
  return diffTrees(repo, parent?.tree, info.tree, limits);
}

type Contents = { kind: 'skip'; reason: 'submodule' | 'unchanged' } | { kind: 'tooLarge' } | { kind: 'texts'; old: Buffer; new: Buffer };

/**
 * The diff between two trees (`before` undefined: the empty tree), bounded by `limits`: at
 * most maxFiles files (`truncated` says there were more); a file over maxFileBytes on either
 * side, or any file after maxLines lines of hunks have been produced, is listed with its
 * status only (`tooLarge`, no counts). Binary files (a NUL in the first 8000 bytes) have no
 * counts or hunks, as `git diff --numstat` shows "-". Submodules and pure renames or mode
 * changes have empty hunks.
 */
export async function diffTrees(repo: Repository, before: ObjectId | undefined, after: ObjectId, limits: DiffLimits = {}): Promise<DiffResult> {
  const { maxFiles, maxFileBytes, maxLines } = { ...DEFAULT_DIFF_LIMITS, ...limits };
  // Twice the files: an exact rename is one removal and one addition before pairing.
  const tree = await treeChanges(repo, before, after, 2 * maxFiles);
  const changes = tree.changes.slice(0, maxFiles);
  const result: DiffResult = { files: [], additions: 0, deletions: 0, truncated: tree.truncated || tree.changes.length > maxFiles };

  const load = async (change: TreeChange): Promise<Contents> => {
    if (change.oldMode === GITLINK_MODE || change.newMode === GITLINK_MODE) return { kind: 'skip', reason: 'submodule' };
    if (change.oldOid === change.newOid) return { kind: 'skip', reason: 'unchanged' };
    const sizes = await Promise.all([change.oldOid, change.newOid].map((oid) => (oid === undefined ? 0 : blobSize(repo, oid, `diff of ${change.path}`))));
    if (sizes.some((size) => size > maxFileBytes)) return { kind: 'tooLarge' };
    const [oldData, newData] = await Promise.all(
      [change.oldOid, change.newOid].map((oid) => (oid === undefined ? Buffer.alloc(0) : readRequired(repo, oid, 'blob', `diff of ${change.path}`))),
    );
    return { kind: 'texts', old: oldData, new: newData };
  };

  const loads: Array<Promise<Contents>> = [];
  let lines = 0;
  for (let i = 0; i < changes.length; i++) {
    const change = changes[i];
    const file: FileDiff = { path: change.path, status: change.status, additions: 0, deletions: 0, binary: false };
    if (change.previousPath !== undefined) file.previousPath = change.previousPath;
    if (change.oldOid !== undefined) file.oldOid = change.oldOid;
    if (change.newOid !== undefined) file.newOid = change.newOid;
    result.files.push(file);
    if (lines >= maxLines) {
      file.tooLarge = true;
      continue;
    }
    for (let ahead = loads.length; ahead < Math.min(changes.length, i + READ_AHEAD); ahead++) {
      const pending = load(changes[ahead]);
      // Read-ahead that ends unused (the line limit reached) must not be an unhandled rejection.
      pending.catch(() => undefined);
      loads.push(pending);
    }
    const contents = await loads[i];
    if (contents.kind === 'skip') {
      file.hunks = [];
      file.patch = '';
    } else if (contents.kind === 'tooLarge') {
      file.tooLarge = true;
    } else if (isBinary(contents.old) || isBinary(contents.new)) {
      file.binary = true;
    } else {
      const diff = diffTexts(contents.old.toString('utf8'), contents.new.toString('utf8'));
      if (!diff) {
        file.tooLarge = true;
        continue;
      }
      file.additions = diff.additions;
      file.deletions = diff.deletions;
      file.hunks = diff.hunks;
      file.patch = diff.patch;
      lines += diff.lineCount;
      result.additions += diff.additions;
      result.deletions += diff.deletions;
    }
  }
  return result;
}
