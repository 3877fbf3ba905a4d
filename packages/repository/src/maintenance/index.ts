/**
 * The maintenance lifecycle of a repository's packs: geometric compaction and full repacks
 * publish new packs and retire the ones they replace in one CAS, under a lease that lets one
 * runner of the fleet maintain a repository at a time; retired and orphaned packs are collected
 * after a grace period, and so are Git LFS objects no reachable pointer references.
 *
 * Configuration that must hold together: graceSeconds > the registry view age
 * (Stores.registry.maxAgeMs, default 30 s) + the longest request or push. maintainRepository
 * refuses a grace period not above the view age; the request bound is the caller's to respect.
 */
export * from './lease.js';
export * from './geometric.js';
export * from './policy.js';
export * from './publish.js';
export * from './collector.js';
export * from './lfs-collector.js';
export * from './deleted-repositories.js';
export * from './maintain.js';
export type { PackKind, PackRecord } from '../keys.js';
export * from './pack-writer-stage.js';
export {
  rewritePack,
  MAX_REWRITE_DELTA_DEPTH,
  type WrittenPack,
  type PackOrder,
  type RewriteOptions,
  type RewriteStats,
} from './pack-rewrite.js';
export { objectsOfPacks } from './objects-of-packs.js';
export { cloneOrder } from './clone-order.js';
export { repackTips, type RepackTips } from './repack-tips.js';
export { ObjectSelection, SelectionBuilder, selectionOf, type StoredObject } from './selection.js';
