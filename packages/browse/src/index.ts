/**
 * Reading a repository the way people browse it (web pages, REST API): revisions, trees and
 * files at a commit, history a page at a time, a commit's diff, comparisons. Every function
 * does bounded work whatever the repository's size: a page never walks the whole history.
 * CONTRACT: signatures the server builds on; the implementation replaces these stubs.
 */
import type { ObjectId } from '@gitfleet/git-format';
import type { Repository } from '@gitfleet/repository';

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
  /** Files larger than this are counted but not diffed line by line. */
  maxFileBytes?: number;
  /** Total lines of hunks returned over all files. */
  maxLines?: number;
}

/** A revision that names nothing: the API answers 404 with its message. */
export class RevisionNotFound extends Error {}
/** A path that does not exist at the revision: 404 with its message. */
export class PathNotFound extends Error {}

export declare function listBranches(repo: Repository): Promise<RefInfo[]>;
export declare function listTags(repo: Repository): Promise<RefInfo[]>;
/** Default branch short name and its commit (undefined for an empty repository). */
export declare function defaultBranch(repo: Repository): Promise<{ name: string; commit?: ObjectId }>;

/**
 * The commit a revision names: a branch or tag short name, a full ref name, "HEAD", a full
 * object id or an abbreviated one of at least 7 hex digits. Throws RevisionNotFound.
 */
export declare function resolveRevision(repo: Repository, revision: string): Promise<ObjectId>;

export declare function readCommit(repo: Repository, oid: ObjectId): Promise<CommitInfo>;

/**
 * History from `start` (newest first, by committer date like `git log`), one page:
 * skips `skip` commits then returns up to `limit`; with `path`, only commits that changed it
 * (scanning at most `maxScan` commits, default 10 000, before answering with what it found).
 * `hasMore` says whether another page exists.
 */
export declare function log(
  repo: Repository,
  start: ObjectId,
  options: { limit: number; skip?: number; path?: string; maxScan?: number },
): Promise<{ commits: CommitInfo[]; hasMore: boolean }>;

/** Entries of the directory at `path` ("" = root) of a commit: directories first, then by name. Throws PathNotFound. */
export declare function readTree(repo: Repository, commit: ObjectId, path: string): Promise<TreeItem[]>;

/** The entry at `path` (file, directory or submodule); throws PathNotFound. */
export declare function statPath(repo: Repository, commit: ObjectId, path: string): Promise<TreeItem>;

/** A file's content at a commit, its first `maxBytes` (default 1 MiB). Throws PathNotFound (also for a directory). */
export declare function readFile(repo: Repository, commit: ObjectId, path: string, options?: { maxBytes?: number }): Promise<FileContent>;

/** The README of a directory (README.md, README, README.txt, … case-insensitively), if any. */
export declare function findReadme(repo: Repository, commit: ObjectId, directory?: string): Promise<TreeItem | undefined>;

/** A commit's changes against its first parent (root commit: against the empty tree). */
export declare function commitDiff(repo: Repository, commit: ObjectId, limits?: DiffLimits): Promise<DiffResult>;

/**
 * base...head as GitHub's compare: the merge base, how far head is ahead of and behind base,
 * head's commits not in base (oldest first, at most `maxCommits`, default 250), and the diff
 * merge-base..head.
 */
export declare function compare(
  repo: Repository,
  base: ObjectId,
  head: ObjectId,
  options?: { maxCommits?: number; limits?: DiffLimits },
): Promise<{ mergeBase?: ObjectId; aheadBy: number; behindBy: number; commits: CommitInfo[]; diff: DiffResult }>;
