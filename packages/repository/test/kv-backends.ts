/**
 * The KV stores the ref and registry tests run against: in memory, and the embedded default;
 * the registry tests also on Redis when GITFLEET_TEST_REDIS_URL is set.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { MemoryKVStore, RedisKVStore, SqliteKVStore, type KVStore } from '@gitfleet/storage';
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

/**
 * Redis, when GITFLEET_TEST_REDIS_URL is set (scripts/servers/redis.sh start prints it): each
 * test in a namespace of its own, whose keys are deleted afterwards from every scope it wrote
 * (append-only logs stay: the KV store cannot delete them).
 */
export const redisKvBackends: KVBackend[] = process.env.GITFLEET_TEST_REDIS_URL
  ? [
      {
        name: 'redis',
        open(t) {
          const kv = new RedisKVStore({ connection: { url: process.env.GITFLEET_TEST_REDIS_URL! }, namespace: `gftest-repository-${randomBytes(6).toString('hex')}` });
          const written = new Set<string>();
          const compareAndSwap = kv.compareAndSwap.bind(kv);
          kv.compareAndSwap = (scope, ops, mode) => {
            written.add(scope);
            return compareAndSwap(scope, ops, mode);
          };
          t.after(async () => {
            for (const scope of written) {
              const entries = await kv.scan(scope, '');
              await compareAndSwap(scope, entries.map(({ key, value }) => ({ key, expect: value, value: null })), 'each');
            }
            await kv.close();
          });
          return kv;
        },
      },
    ]
  : [];
