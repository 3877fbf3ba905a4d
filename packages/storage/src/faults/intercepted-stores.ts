import type { Readable } from 'node:stream';
import { hasBlobAges, type BlobAges } from '../blob-ages.js';
import type { BlobBody, BlobInfo, BlobStore, ByteRange } from '../blob-store.js';
import type { CasMode, CasOp, CasResult, KVEntry, KVStore } from '../kv-store.js';
import type { BlobOperation, KVOperation, StoreCall, StoreInterceptor } from './store-interceptor.js';

/** A BlobStore whose every request goes through `interceptor` on its way to `inner`. */
export class InterceptedBlobStore implements BlobStore, BlobAges {
  constructor(
    private readonly inner: BlobStore,
    private readonly interceptor: StoreInterceptor,
  ) {}

  putIfAbsent(key: string, body: BlobBody): Promise<boolean> {
    const call = blobCall('putIfAbsent', key);
    const sent = this.interceptor.writeBody?.(call, body) ?? body;
    return this.interceptor.call(call, () => this.inner.putIfAbsent(key, sent));
  }

  get(key: string, range?: ByteRange): Promise<Buffer | undefined> {
    return this.interceptor.call(blobCall('get', key), () => this.inner.get(key, range));
  }

  async getStream(key: string, range?: ByteRange): Promise<Readable | undefined> {
    const call = blobCall('getStream', key);
    const stream = await this.interceptor.call(call, () => this.inner.getStream(key, range));
    return stream && (this.interceptor.readStream?.(call, stream) ?? stream);
  }

  head(key: string): Promise<BlobInfo | undefined> {
    return this.interceptor.call(blobCall('head', key), () => this.inner.head(key));
  }

  /** A head request on the wire; rejects when the store behind cannot tell. */
  writtenAt(key: string): Promise<number | undefined> {
    const inner = this.inner;
    if (!hasBlobAges(inner)) return Promise.reject(new Error(`the store behind cannot tell when blob ${key} was written`));
    return this.interceptor.call(blobCall('head', key), () => inner.writtenAt(key));
  }

  /** One request: the listing's start (a store pages on, but a failure shows as the iteration failing). */
  async *list(prefix: string): AsyncIterable<BlobInfo> {
    const iterator = this.inner.list(prefix)[Symbol.asyncIterator]();
    try {
      let next = await this.interceptor.call(blobCall('list', prefix), () => iterator.next());
      while (!next.done) {
        yield next.value;
        next = await iterator.next();
      }
    } finally {
      await iterator.return?.();
    }
  }

  delete(key: string): Promise<void> {
    return this.interceptor.call(blobCall('delete', key), () => this.inner.delete(key));
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** A KVStore whose every request goes through `interceptor` on its way to `inner`. */
export class InterceptedKVStore implements KVStore {
  constructor(
    private readonly inner: KVStore,
    private readonly interceptor: StoreInterceptor,
  ) {}

  get(scope: string, key: string): Promise<string | undefined> {
    return this.interceptor.call(kvCall('get', scope), () => this.inner.get(scope, key));
  }

  getMany(scope: string, keys: readonly string[]): Promise<Map<string, string>> {
    return this.interceptor.call(kvCall('getMany', scope), () => this.inner.getMany(scope, keys));
  }

  scan(scope: string, prefix: string): Promise<KVEntry[]> {
    return this.interceptor.call(kvCall('scan', scope), () => this.inner.scan(scope, prefix));
  }

  compareAndSwap(scope: string, ops: readonly CasOp[], mode: CasMode): Promise<CasResult> {
    return this.interceptor.call(kvCall('compareAndSwap', scope), () => this.inner.compareAndSwap(scope, ops, mode));
  }

  append(scope: string, log: string, entry: string): Promise<void> {
    return this.interceptor.call(kvCall('append', scope), () => this.inner.append(scope, log, entry));
  }

  readLog(scope: string, log: string, options?: { limit?: number }): Promise<string[]> {
    return this.interceptor.call(kvCall('readLog', scope), () => this.inner.readLog(scope, log, options));
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

function blobCall(operation: BlobOperation, key: string): StoreCall {
  return { store: 'blob', operation, key };
}

/** KV requests are named by their scope: a repository's requests all share it. */
function kvCall(operation: KVOperation, scope: string): StoreCall {
  return { store: 'kv', operation, key: scope };
}
