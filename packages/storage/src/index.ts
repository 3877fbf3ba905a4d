export type { BlobStore, BlobBody, BlobInfo, ByteRange } from './blob-store.js';
export { hasDirectReadUrls, type DirectReadUrls } from './direct-read-urls.js';
export { hasBlobAges, type BlobAges } from './blob-ages.js';
export {
  concatenateBlobs,
  hasBlobConcatenation,
  MAX_CONCATENATED_PART_BYTES,
  MAX_CONCATENATED_PARTS,
  MIN_CONCATENATED_PART_BYTES,
  type BlobConcatenation,
} from './blob-concatenation.js';
export {
  hasDirectWriteUrls,
  type DirectWrite,
  type DirectWriteContent,
  type DirectWriteOutcome,
  type DirectWriteUrls,
} from './direct-write-urls.js';
export { mapConcurrently } from './map-concurrently.js';
export type { KVStore, KVEntry, CasOp, CasMode, CasResult } from './kv-store.js';
export { InvalidKeyError, StorageFull, StoreUnavailable, WriteOutcomeUnknown, causeChain, isOutOfSpace } from './errors.js';
export {
  clampRange,
  isValidBlobKeySegment,
  validateBlobKey,
  validateBlobPrefix,
  validateByteRange,
  validateCasOps,
  validateKvName,
  validateKvPrefix,
  validateLogLimit,
} from './validation.js';
export { FsBlobStore } from './fs/fs-blob-store.js';
export { SqliteKVStore } from './sqlite/sqlite-kv-store.js';
export { WalSync, WalSyncFailed, useWalWithSync } from './sqlite/wal-sync.js';
export { whenUnlocked } from './sqlite/busy-wait.js';
export { MemoryBlobStore } from './memory/memory-blob-store.js';
export { MemoryKVStore } from './memory/memory-kv-store.js';
export { S3BlobStore, type S3BlobStoreOptions } from './s3/s3-blob-store.js';
export { connectRedis, RedisKVStore, ReplicaAckError, type RedisConnection, type RedisKVStoreOptions } from './redis/redis-kv-store.js';
export {
  PlacementBlobStore,
  PlacementError,
  type PlacementBlobStoreOptions,
  type PlacementLayout,
  type PlacementMember,
  type RepairOptions,
  type RepairProgress,
  type RepairReport,
  type CleanupKeepReason,
  type CleanupOptions,
  type CleanupProgress,
  type CleanupReport,
  type KeyWalkOptions,
} from './placement/index.js';
export * from './faults/index.js';
