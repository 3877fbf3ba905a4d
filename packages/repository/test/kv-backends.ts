/** The KV stores the ref and registry tests run against: in memory, and the embedded default. */
import path from 'node:path';
import { MemoryKVStore, SqliteKVStore, type KVStore } from '@gitfleet/storage';
import { makeTempDir } from './git-fixtures.js';

export interface KVBackend {
  name: string;
  /** A fresh store, closed when the test ends. */
  open(t: { after(fn: () => void | Promise<void>): void }): KVStore;
}

export const kvBackends: KVBackend[] = [
  { name: 'memory', open: () => new MemoryKVStore() },
  {
    name: 'sqlite',
    open(t) {
      const kv = new SqliteKVStore(path.join(makeTempDir(t, 'kv'), 'kv.sqlite'));
      t.after(() => kv.close());
      return kv;
    },
  },
];
