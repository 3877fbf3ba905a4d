/**
 * Git's formats, with no I/O: object ids, pkt-line, objects, packs and pack indexes.
 * The signatures below are the contract the other packages build on.
 */
export * from './oid.js';
export * from './lru.js';
export * from './file-mode.js';
export * from './pkt-line.js';
export * from './sideband.js';
export * from './objects.js';
export * from './fsck.js';
export * from './gitmodules.js';
export * from './pack/crc32.js';
export * from './pack/entry.js';
export * from './pack/delta.js';
export * from './pack/index-file.js';
export * from './pack/writer.js';
export * from './pack/indexer.js';
export { PackInMemory } from './pack/pack-file.js';
export * from './pack/limits.js';
export * from './pack/read-object.js';
export * from './sidecars/index.js';
export * from './pack/parallel/object-sink.js';
export { DEFAULT_PARALLEL_MIN_DELTAS, type ParallelPassOptions, type ThreadBudget } from './pack/parallel/parallel-pass.js';
export { siblingModule } from './pack/parallel/thread-modules.js';
export * from './thread-priority.js';
