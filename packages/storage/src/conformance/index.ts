// A separate entry point ('@gitfleet/storage/conformance'): it imports node:test, which
// production code must not load.
export { runBlobStoreConformance, type BlobStoreFixture } from './blob-store-conformance.js';
export { runKVStoreConformance, type KVStoreFixture } from './kv-store-conformance.js';
