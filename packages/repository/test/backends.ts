/** The store combinations every repository test runs against: in memory, and the embedded default. */
import path from 'node:path';
import { FsBlobStore, MemoryBlobStore, MemoryKVStore, SqliteKVStore } from '@gitfleet/storage';
import { BlockCache, DeltaBaseCache, PackIndexCache, type Stores } from '../src/index.js';
import { makeTempDir } from './git-fixtures.js';

export interface Backend {
  name: string;
  /** Fresh stores with caches of their own; closed when the test ends. */
  open(t: { after(fn: () => void | Promise<void>): void }): Promise<Stores>;
}

/** Small blocks and caches, so that tests cross block boundaries and evict. */
export function caches(): Pick<Stores, 'cache' | 'indexes' | 'deltaBases'> {
  return {
    cache: new BlockCache({ blockSize: 4096, maxBytes: 256 * 1024 }),
    indexes: new PackIndexCache({ maxBytes: 1024 * 1024 }),
    deltaBases: new DeltaBaseCache({ maxBytes: 64 * 1024 }),
  };
}

export const backends: Backend[] = [
  {
    name: 'memory',
    async open() {
      return { blobs: new MemoryBlobStore(), kv: new MemoryKVStore(), ...caches() };
    },
  },
  {
    name: 'fs+sqlite',
    async open(t) {
      const dir = makeTempDir(t, 'stores');
      const blobs = await FsBlobStore.open(path.join(dir, 'blobs'));
      const kv = new SqliteKVStore(path.join(dir, 'kv.sqlite'));
      t.after(async () => {
        await blobs.close();
        await kv.close();
      });
      return { blobs, kv, ...caches() };
    },
  },
];
