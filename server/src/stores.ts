import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { BlockCache, type Stores } from '@gitfleet/repository';
import { FsBlobStore, SqliteKVStore, type BlobStore, type KVStore } from '@gitfleet/storage';
import type { ServerConfig } from './config.js';

export interface OpenStores extends Stores {
  /** Closes both stores (after the server has stopped using them). */
  close(): Promise<void>;
}

/** The one place that picks the backends; nothing else knows which ones are in use. */
export async function openStores(config: ServerConfig): Promise<OpenStores> {
  await mkdir(config.dataDir, { recursive: true });
  const blobs = await openBlobStore(config);
  let kv: KVStore;
  try {
    kv = await openKVStore(config);
  } catch (error) {
    await blobs.close();
    throw error;
  }
  const cache = new BlockCache({ blockSize: config.cache.blockSize, maxBytes: config.cache.maxBytes });
  return {
    blobs,
    kv,
    cache,
    async close() {
      await Promise.allSettled([blobs.close(), kv.close()]);
    },
  };
}

async function openBlobStore(config: ServerConfig): Promise<BlobStore> {
  switch (config.blobStore) {
    case 'fs':
      return FsBlobStore.open(path.join(config.dataDir, 'objects'));
  }
}

async function openKVStore(config: ServerConfig): Promise<KVStore> {
  switch (config.kvStore) {
    case 'sqlite':
      return new SqliteKVStore(path.join(config.dataDir, 'kv.sqlite'));
  }
}

/** Where receive-pack spools incoming packs: local disk, next to the data. */
export function spoolDirectory(config: ServerConfig): string {
  return path.join(config.dataDir, 'spool');
}
