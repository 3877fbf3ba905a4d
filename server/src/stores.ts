import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import {
  BlockCache,
  CommitGraphCache,
  DeltaBaseCache,
  InMemoryReadBudget,
  PackBitmapsCache,
  PackIndexCache,
  RefListingCache,
  ReencodedEntryCache,
  type Stores,
} from '@gitfleet/repository';
import {
  FsBlobStore,
  InterceptedBlobStore,
  InterceptedKVStore,
  PlacementBlobStore,
  RedisKVStore,
  S3BlobStore,
  SqliteKVStore,
  type BlobStore,
  type KVStore,
  type RedisConnection,
  type StoreInterceptor,
} from '@gitfleet/storage';
import type { BlobStoreSpec, BlobsConfig, KVConfig, ServerConfig } from './config.js';
import { watchRepositoryCaches } from './metrics/caches.js';

export interface OpenStores extends Stores {
  /** The blob store when it is a placement over several stores (repair and cleanup need it as such); undefined otherwise. */
  placement?: PlacementBlobStore;
  /** Closes both stores (after the server has stopped using them). */
  close(): Promise<void>;
}

/**
 * The one place that picks the backends; nothing else knows which ones are in use. With an
 * `interceptor`, every request to them goes through it (and presigned URLs are not offered).
 */
export async function openStores(config: ServerConfig, interceptor?: StoreInterceptor): Promise<OpenStores> {
  await mkdir(config.dataDir, { recursive: true });
  const opened = await openBlobStore(config.blobs);
  let openedKv: KVStore;
  try {
    openedKv = await openKVStore(config.kv);
  } catch (error) {
    await opened.close();
    throw error;
  }
  const blobs = interceptor ? new InterceptedBlobStore(opened, interceptor) : opened;
  const kv = interceptor ? new InterceptedKVStore(openedKv, interceptor) : openedKv;
  const stores: OpenStores = {
    blobs,
    kv,
    ...(opened instanceof PlacementBlobStore ? { placement: opened } : {}),
    cache: new BlockCache({ blockSize: config.cache.blockSize, maxBytes: config.cache.maxBytes }),
    indexes: new PackIndexCache({ maxBytes: config.cache.indexBytes }),
    deltaBases: new DeltaBaseCache({ maxBytes: config.cache.deltaBaseBytes }),
    reencodedEntries: new ReencodedEntryCache({ maxBytes: config.cache.reencodedBytes }),
    bitmaps: new PackBitmapsCache(config.cache.bitmapBytes),
    commitGraphs: new CommitGraphCache(config.cache.commitGraphBytes),
    refListings: new RefListingCache(config.cache.refListingBytes),
    inMemoryReads: new InMemoryReadBudget(config.browse.inMemoryReadBytes),
    joinPacks: config.joinedPacks,
    async close() {
      await Promise.allSettled([blobs.close(), kv.close()]);
    },
  };
  if (config.metrics.enabled) watchRepositoryCaches(stores);
  return stores;
}

async function openBlobStore(blobs: BlobsConfig): Promise<BlobStore> {
  return blobs.backend === 'placement' ? openPlacementStore(blobs) : openOneBlobStore(blobs.store);
}

async function openPlacementStore(blobs: Extract<BlobsConfig, { backend: 'placement' }>): Promise<PlacementBlobStore> {
  const opened: Array<{ name: string; store: BlobStore }> = [];
  try {
    for (const spec of blobs.stores) opened.push({ name: spec.name, store: await openOneBlobStore(spec) });
  } catch (error) {
    await Promise.allSettled(opened.map(({ store }) => store.close()));
    throw error;
  }
  return new PlacementBlobStore({
    stores: opened,
    replicas: blobs.replicas,
    readTimeoutMs: blobs.readTimeoutMs,
    writeTimeoutMs: blobs.writeTimeoutMs,
  });
}

async function openOneBlobStore(spec: BlobStoreSpec): Promise<BlobStore> {
  switch (spec.type) {
    case 'fs':
      return FsBlobStore.open(spec.path);
    case 's3':
      return new S3BlobStore(spec.s3);
  }
}

async function openKVStore(kv: KVConfig): Promise<KVStore> {
  switch (kv.backend) {
    case 'sqlite':
      return new SqliteKVStore(kv.path);
    case 'redis':
      return new RedisKVStore({
        connection: redisConnection(kv),
        namespace: kv.namespace,
        waitReplicas: kv.waitReplicas,
        waitTimeoutMs: kv.waitTimeoutMs,
      });
  }
}

/** How the Redis of the KV backend is reached (the webhook queues use the same Redis). */
export function redisConnection(kv: Extract<KVConfig, { backend: 'redis' }>): RedisConnection {
  const { target, password } = kv;
  if ('url' in target) return { url: target.url };
  if ('cluster' in target) return { cluster: target.cluster, options: { redisOptions: { password } } };
  // The password is the master's; Sentinels themselves are reached without one.
  return { sentinels: target.sentinels, masterName: target.masterName, options: { password } };
}

/** Where receive-pack spools incoming packs: local disk, next to the data. */
export function spoolDirectory(config: ServerConfig): string {
  return path.join(config.dataDir, 'spool');
}
