export { PlacementBlobStore, type PlacementBlobStoreOptions, type PlacementMember } from './placement-blob-store.js';
export { PlacementError } from './placement-error.js';
export type { RepairOptions, RepairProgress, RepairReport } from './repair.js';
