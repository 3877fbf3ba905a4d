export type { BlobStore, BlobBody, BlobInfo, ByteRange } from './blob-store.js';
export type { KVStore, KVEntry, CasOp, CasMode, CasResult } from './kv-store.js';
