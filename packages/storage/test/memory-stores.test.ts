import { MemoryBlobStore, MemoryKVStore } from '@gitfleet/storage';
import { runBlobStoreConformance, runKVStoreConformance } from '@gitfleet/storage/conformance';

runBlobStoreConformance('MemoryBlobStore', async () => ({ store: new MemoryBlobStore(), cleanup: async () => {} }));

runKVStoreConformance('MemoryKVStore', async () => ({ store: new MemoryKVStore(), cleanup: async () => {} }));
