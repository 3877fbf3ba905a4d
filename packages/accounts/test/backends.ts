// The KV backends the accounts suite runs on: memory and SQLite always, Redis when
// GITFLEET_TEST_REDIS_URL is set (scripts/servers/redis.sh start prints it; CI sets it).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryKVStore, RedisKVStore, SqliteKVStore, type KVStore } from '@gitfleet/storage';
import { ACCOUNTS_SCOPE } from '@gitfleet/accounts';

export interface OpenedStore {
  kv: KVStore;
  close(): Promise<void>;
}

export interface Backend {
  name: string;
  /** Why the backend is skipped, when it is. */
  skip?: string;
  open(): Promise<OpenedStore>;
}

export const backends: Backend[] = [
  { name: 'MemoryKVStore', open: async () => ({ kv: new MemoryKVStore(), close: async () => {} }) },
  {
    name: 'SqliteKVStore',
    async open() {
      const directory = await mkdtemp(join(tmpdir(), 'gitfleet-accounts-'));
      const kv = new SqliteKVStore(join(directory, 'kv.sqlite'));
      return {
        kv,
        async close() {
          await kv.close();
          await rm(directory, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'RedisKVStore',
    skip: process.env.GITFLEET_TEST_REDIS_URL ? undefined : 'GITFLEET_TEST_REDIS_URL not set (eval "$(scripts/servers/redis.sh start)")',
    async open() {
      const namespace = `gftest-accounts-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
      const kv = new RedisKVStore({ connection: { url: process.env.GITFLEET_TEST_REDIS_URL! }, namespace });
      return {
        kv,
        async close() {
          // The suite writes only the accounts scope: emptying it leaves nothing behind.
          const entries = await kv.scan(ACCOUNTS_SCOPE, '');
          if (entries.length > 0) {
            await kv.compareAndSwap(
              ACCOUNTS_SCOPE,
              entries.map(({ key, value }) => ({ key, expect: value, value: null })),
              'all',
            );
          }
          await kv.close();
        },
      };
    },
  },
];
