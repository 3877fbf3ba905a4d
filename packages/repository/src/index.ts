/**
 * A git repository over a BlobStore (packs + idx) and a KVStore (pack registry, refs).
 * The signatures below are the contract the protocol and server packages build on.
 */
export * from './repository.js';
export * from './errors.js';
export * from './object-reader.js';
export * from './pack-access.js';
export * from './ref-db.js';
export * from './lfs-locks.js';
export * from './lfs-object-records.js';
export * from './lfs-pointer.js';
export { lfsBlobKey, lfsBlobPrefix, lfsUploadsBlobPrefix } from './keys.js';
export * from './registry.js';
export * from './journal/index.js';
export * from './block-cache.js';
export * from './pack-index-cache.js';
export * from './delta-base-cache.js';
export { CommitGraphCache, sharedCommitGraphCache } from './commit-graph-cache.js';
export { RepackTipsCache, sharedRepackTipsCache, type RepackLayers } from './repack-tips-cache.js';
export { RefListingCache, sharedRefListingCache } from './ref-listing-cache.js';
export * from './reachability/index.js';
export * from './oid-set.js';
export * from './loop-pacer.js';
export * from './sorted-names.js';
export * from './object-stream.js';
export * from './tree-walk/index.js';
export * from './pack-output/index.js';
export * from './maintenance/index.js';
export * from './bitmaps/index.js';
