import type { Readable } from 'node:stream';
import type { BlobBody } from '../blob-store.js';

export type BlobOperation = 'putIfAbsent' | 'get' | 'getStream' | 'head' | 'list' | 'delete';
export type KVOperation = 'get' | 'getMany' | 'scan' | 'compareAndSwap' | 'append' | 'readLog';

/** One request to a store, as an interceptor sees it. */
export type StoreCall = { store: 'blob'; operation: BlobOperation; key: string } | { store: 'kv'; operation: KVOperation; key: string };

/**
 * What stands between a caller and a store (InterceptedBlobStore, InterceptedKVStore): it sees
 * every request, and may delay, fail or alter it. Counting requests and injecting faults are two
 * interceptors over the same wrappers.
 */
export interface StoreInterceptor {
  /** Runs one request; `perform` sends it to the store. */
  call<T>(call: StoreCall, perform: () => Promise<T>): Promise<T>;
  /** The stream a getStream answered with, as the caller will read it. */
  readStream?(call: StoreCall, stream: Readable): Readable;
  /** The body of a putIfAbsent, as the store will read it. */
  writeBody?(call: StoreCall, body: BlobBody): BlobBody;
}

/** `operation` of `store`, the name requests are counted and faults are logged under (`blob.get`, `kv.compareAndSwap`). */
export function operationName(call: StoreCall): string {
  return `${call.store}.${call.operation}`;
}
