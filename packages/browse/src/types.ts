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
  /** The first `maxBytes` bytes. */
  content: Buffer;
  truncated: boolean;
  /** Contains a NUL byte in its first 8000 bytes (git's heuristic). */
  binary: boolean;
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
  /** Absent when binary or over the size limits (`tooLarge`). */
  hunks?: DiffHunk[];
  tooLarge?: boolean;
  /** Unified diff text as GitHub's API's `patch` field (hunks only, no file header). */
  patch?: string;
}

export interface DiffResult {
  files: FileDiff[];
  additions: number;
  deletions: number;
  /** More files changed than the limit; `files` lists the first ones. */
  truncated: boolean;
}

export interface DiffLimits {
  maxFiles?: number;
  /** Files larger than this (either side) are listed with `tooLarge`, without line counts or hunks. */
  maxFileBytes?: number;
  /** Total lines of hunks returned over all files. */
  maxLines?: number;
}
