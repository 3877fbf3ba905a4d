import { FileMode, type ObjectId } from '@gitfleet/git-format';
import type { Repository } from '@gitfleet/repository';
import { blobSize } from './blob-sizes.js';
import { readCommit } from './commits.js';
import type { DiffCache } from './diff-cache.js';
import type { LineDiffPool } from './line-diff-pool.js';
import { readRequired } from './objects.js';
import { TaskTimedOut } from './task-pool.js';
import { isBinary } from './tree.js';
import { treeChanges, type TreeChange } from './tree-changes.js';
import type { DiffLimits, DiffResult, FileDiff } from './types.js';

export const DEFAULT_DIFF_LIMITS: Required<DiffLimits> = {
  maxFiles: 300,
  maxFileBytes: 512 * 1024,
  maxLines: 20_000,
  maxEditLength: 2_000,
  timeMs: 3_000,
};
/** Blob pairs read ahead of the one being diffed: hides the store's latency. */
const READ_AHEAD = 8;

export interface DiffOptions {
  /** Where the line diffs run: off the event loop. */
  pool: LineDiffPool;
  limits?: DiffLimits;
  /** Results by tree pair, shared by the requests of the process. */
  cache?: DiffCache;
}

/** A commit's changes against its first parent (a root commit: against the empty tree). */
export async function commitDiff(repo: Repository, commit: ObjectId, options: DiffOptions): Promise<DiffResult> {
  const info = await readCommit(repo, commit);
  const parent = info.parents.length > 0 ? await readCommit(repo, info.parents[0]) : undefined;
  return diffTrees(repo, parent?.tree, info.tree, options);
}

type Contents = { kind: 'skip'; reason: 'submodule' | 'unchanged' } | { kind: 'tooLarge' } | { kind: 'texts'; old: Buffer; new: Buffer };

/**
 * The diff between two trees (`before` undefined: the empty tree), bounded by `limits` as one
 * budget for the whole request: at most maxFiles files (`truncated` says there were more); a
 * file over maxFileBytes on either side is listed with its status only (`tooLarge`, no
 * counts), as is one whose diff gives up (more than maxEditLength changed lines, or out of
 * time); once timeMs of diffing or maxLines lines are spent (hunks produced, and both sides
 * of each file that gave up), the remaining files are listed the same way (`budgetExhausted`).
 * Binary files (a NUL in the first 8000 bytes) have no counts or hunks, as `git diff --numstat`
 * shows "-". Submodules and pure renames or mode changes have empty hunks.
 */
export function diffTrees(repo: Repository, before: ObjectId | undefined, after: ObjectId, options: DiffOptions): Promise<DiffResult> {
  const limits = { ...DEFAULT_DIFF_LIMITS, ...options.limits };
  if (!options.cache) return computeDiff(repo, before, after, options.pool, limits);
  const key = `${before ?? 'empty'}..${after} ${limits.maxFiles} ${limits.maxFileBytes} ${limits.maxLines} ${limits.maxEditLength} ${limits.timeMs}`;
  return options.cache.get(key, () => computeDiff(repo, before, after, options.pool, limits));
}

async function computeDiff(
  repo: Repository,
  before: ObjectId | undefined,
  after: ObjectId,
  pool: LineDiffPool,
  limits: Required<DiffLimits>,
): Promise<DiffResult> {
  const { maxFiles, maxFileBytes, maxEditLength } = limits;
  // Twice the files: an exact rename is one removal and one addition before pairing.
  const tree = await treeChanges(repo, before, after, 2 * maxFiles);
  const changes = tree.changes.slice(0, maxFiles);
  const result: DiffResult = { files: [], additions: 0, deletions: 0, truncated: tree.truncated || tree.changes.length > maxFiles };

  const load = async (change: TreeChange): Promise<Contents> => {
    if (change.oldMode === FileMode.Submodule || change.newMode === FileMode.Submodule) return { kind: 'skip', reason: 'submodule' };
    if (change.oldOid === change.newOid) return { kind: 'skip', reason: 'unchanged' };
    const sizes = await Promise.all(
      [change.oldOid, change.newOid].map(async (oid) => (oid === undefined ? 0 : blobSize(repo, oid, `diff of ${change.path}`))),
    );
    if (sizes.some((size) => size > maxFileBytes)) return { kind: 'tooLarge' };
    const [oldData, newData] = await Promise.all(
      [change.oldOid, change.newOid].map(async (oid) =>
        oid === undefined ? Buffer.alloc(0) : readRequired(repo, oid, 'blob', `diff of ${change.path}`),
      ),
    );
    return { kind: 'texts', old: oldData, new: newData };
  };

  const loads: Array<Promise<Contents>> = [];
  let linesLeft = limits.maxLines;
  let msLeft = limits.timeMs;
  const notRendered = (file: FileDiff, reason: NonNullable<FileDiff['tooLargeReason']>) => {
    file.tooLarge = true;
    file.tooLargeReason = reason;
    if (reason === 'budget') result.budgetExhausted = true;
  };
  for (let i = 0; i < changes.length; i++) {
    const change = changes[i];
    const file: FileDiff = { path: change.path, status: change.status, additions: 0, deletions: 0, binary: false };
    if (change.previousPath !== undefined) file.previousPath = change.previousPath;
    if (change.oldOid !== undefined) file.oldOid = change.oldOid;
    if (change.newOid !== undefined) file.newOid = change.newOid;
    result.files.push(file);
    if (linesLeft <= 0 || msLeft <= 0) {
      if (msLeft <= 0) result.timeLimited = true;
      notRendered(file, 'budget');
      continue;
    }
    for (let ahead = loads.length; ahead < Math.min(changes.length, i + READ_AHEAD); ahead++) {
      const pending = load(changes[ahead]);
      // Read-ahead that ends unused (the budget spent) must not be an unhandled rejection.
      pending.catch(() => undefined);
      loads.push(pending);
    }
    const contents = await loads[i];
    if (contents.kind === 'skip') {
      file.hunks = [];
      file.patch = '';
    } else if (contents.kind === 'tooLarge') {
      notRendered(file, 'size');
    } else if (isBinary(contents.old) || isBinary(contents.new)) {
      file.binary = true;
    } else {
      let outcome;
      try {
        outcome = await pool.diff(contents.old, contents.new, { maxEditLength, timeoutMs: msLeft });
      } catch (error) {
        if (!(error instanceof TaskTimedOut)) throw error;
        msLeft = 0;
        result.timeLimited = true;
        notRendered(file, 'budget');
        continue;
      }
      msLeft -= outcome.elapsedMs;
      const diff = outcome.diff;
      if (!diff) {
        linesLeft -= outcome.lines;
        if (msLeft <= 0) result.timeLimited = true;
        notRendered(file, msLeft <= 0 ? 'budget' : 'changes');
        continue;
      }
      file.additions = diff.additions;
      file.deletions = diff.deletions;
      file.hunks = diff.hunks;
      file.patch = diff.patch;
      linesLeft -= diff.lineCount;
      result.additions += diff.additions;
      result.deletions += diff.deletions;
    }
  }
  return result;
}
