export { PlacementBlobStore, type PlacementBlobStoreOptions, type PlacementLayout, type PlacementMember } from './placement-blob-store.js';
export { PlacementError } from './placement-error.js';
export type { RepairOptions, RepairProgress, RepairReport } from './repair.js';
export type { CleanupKeepReason, CleanupOptions, CleanupProgress, CleanupReport } from './cleanup.js';
export type { KeyWalkOptions } from './key-walk.js';
