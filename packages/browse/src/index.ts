/**
 * Reading a repository the way people browse it (web pages, REST API): revisions, trees and
 * files at a commit, history a page at a time, a commit's diff, comparisons. Every function
 * does bounded work whatever the repository's size: a page never walks the whole history.
 */
export type * from './types.js';
export { RevisionNotFound, PathNotFound } from './errors.js';
export { listBranches, listTags, defaultBranch } from './refs.js';
export { resolveRevision, resolveRevisionPath, type RevisionPath } from './revision.js';
export { readCommit, log, DEFAULT_MAX_SCAN } from './commits.js';
export type { LogOptions, LogPage } from './commits.js';
export { readTree, statPath, readFile, openFile, findReadme, isBinary, BINARY_PROBE_BYTES, DEFAULT_MAX_TREE_ENTRIES } from './tree.js';
export { commitDiff, diffTrees, DEFAULT_DIFF_LIMITS, type DiffOptions } from './diff.js';
export { DiffCache } from './diff-cache.js';
export { ResultCache } from './result-cache.js';
export { LineDiffPool } from './line-diff-pool.js';
export { defaultPoolThreads, TaskPool, PoolBusy, TaskTimedOut, ownBytes, type PoolStats, type TaskPoolOptions } from './task-pool.js';
export { compare, MAX_COMPARE_WALK } from './compare.js';
export type { Comparison } from './compare.js';
export { parseLfsPointer, LFS_POINTER_MAX_BYTES, type LfsPointer } from '@gitfleet/repository';
