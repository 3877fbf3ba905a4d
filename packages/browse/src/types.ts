import type { Readable } from 'node:stream';
import type { ObjectId } from '@gitfleet/git-format';

export interface Signature {
  name: string;
  email: string;
  /** ISO 8601 with the author's own offset, e.g. 2024-05-01T12:00:00+02:00 */
  date: string;
}

export interface CommitInfo {
  oid: ObjectId;
  tree: ObjectId;
  parents: ObjectId[];
  author: Signature;
  committer: Signature;
  message: string;
}

export interface RefInfo {
  /** Short name: "main", "v1.0". */
  name: string;
  /** Full name: "refs/heads/main". */
  ref: string;
  /** The commit it points at (tags peeled). */
  commit: ObjectId;
  /** For an annotated tag: the tag object's id. */
  tagObject?: ObjectId;
}

export type EntryType = 'blob' | 'tree' | 'commit';

export interface TreeItem {
  name: string;
  /** Path from the root, "/"-separated, no leading slash. */
  path: string;
  /** Git's octal mode as a string: "100644", "100755", "120000", "40000", "160000". */
  mode: string;
  type: EntryType;
  oid: ObjectId;
  /** Blobs only. */
  size?: number;
}

export interface FileContent {
  path: string;
  oid: ObjectId;
  mode: string;
  size: number;
  /** The first `maxBytes` bytes (only those are inflated when the file is larger and stored whole). */
  content: Buffer;
  truncated: boolean;
  /** Contains a NUL byte in its first 8000 bytes (git's heuristic). */
  binary: boolean;
}

/** A file's bytes as a stream (a large one is inflated as it is read, never held whole). */
export interface FileStream {
  path: string;
  oid: ObjectId;
  mode: string;
  size: number;
  stream: Readable;
}

/** A directory's entries, at most a bound of them. */
export interface TreeListing {
  entries: TreeItem[];
  /** The directory has more entries than listed. */
  truncated: boolean;
}

export type ChangeStatus = 'added' | 'removed' | 'modified' | 'renamed';

export interface DiffLine {
  kind: 'context' | 'add' | 'del';
  text: string;
  oldNumber?: number;
  newNumber?: number;
}

export interface DiffHunk {
  header: string;
  lines: DiffLine[];
}

export interface FileDiff {
  path: string;
  /** For 'renamed' (exact renames only), the path it had. */
  previousPath?: string;
  status: ChangeStatus;
  oldOid?: ObjectId;
  newOid?: ObjectId;
  additions: number;
  deletions: number;
  binary: boolean;
  /** Absent when binary or not rendered (`tooLarge`). */
  hunks?: DiffHunk[];
  /** Listed without hunks ("Large diff not rendered"); `tooLargeReason` says why. */
  tooLarge?: boolean;
  /**
   * size: a side is over maxFileBytes; changes: too many changed lines to diff (maxEditLength);
   * budget: the request's time or line budget ran out before this file.
   */
  tooLargeReason?: 'size' | 'changes' | 'budget';
  /** Unified diff text as GitHub's API's `patch` field (hunks only, no file header). */
  patch?: string;
}

export interface DiffResult {
  files: FileDiff[];
  additions: number;
  deletions: number;
  /** More files changed than the limit; `files` lists the first ones. */
  truncated: boolean;
  /** The request's time or line budget ran out: some files are listed without hunks (`tooLargeReason` 'budget'). */
  budgetExhausted?: boolean;
  /**
   * The time budget shaped the result: a file's diff ran out of time (which depends on how busy
   * the server was, not only on the trees), so the result is not one to keep and serve again.
   */
  timeLimited?: boolean;
}

export interface DiffLimits {
  maxFiles?: number;
  /** Files larger than this (either side) are listed with `tooLarge`, without line counts or hunks. */
  maxFileBytes?: number;
  /**
   * Lines over all files: hunks returned, and both sides of every file that gave up (it cost
   * as much). Once reached, the remaining files are not diffed.
   */
  maxLines?: number;
  /** Added plus removed lines past which one file's diff gives up (Myers' cost grows with it). */
  maxEditLength?: number;
  /** Time spent diffing over all files of one request; once spent, the remaining files are not diffed. */
  timeMs?: number;
}
