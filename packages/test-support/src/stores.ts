/**
 * The stores a test runs against. The embedded ones (memory, files, SQLite) are always there;
 * the remote ones (S3, Redis) come from GITFLEET_TEST_* variables, which the servers that
 * scripts/servers/*.sh start print. A missing variable fails the test rather than skipping it:
 * a remote backend silently left untested looks green.
 */
import path from 'node:path';
import {
  FsBlobStore,
  MemoryBlobStore,
  MemoryKVStore,
  RedisKVStore,
  SqliteKVStore,
  type KVStore,
  type S3BlobStoreOptions,
} from '@gitfleet/storage';
import { RepositoryRegistry, type Repository, type Stores } from '@gitfleet/repository';
import { tempDir, type CleanupOwner } from './temp-dir.js';

/** Set when GITFLEET_SKIP_REMOTE_STORES=1 asks explicitly to leave S3 and Redis out. */
export const skipRemoteStores = process.env.GITFLEET_SKIP_REMOTE_STORES === '1';

/** The variables' values, or an Error telling how to start the servers (`script`). */
export function remoteEnv<K extends string>(names: readonly K[], script: string): Record<K, string> | Error {
  const missing = names.filter((name) => !process.env[name]);
  if (missing.length > 0) {
    return new Error(
      `${missing.join(', ')} not set: start the servers with \`eval "$(${script})"\` ` +
        '(or set GITFLEET_SKIP_REMOTE_STORES=1 to skip these tests explicitly)',
    );
  }
  return Object.fromEntries(names.map((name) => [name, process.env[name]!])) as Record<K, string>;
}

/** Where the test S3 server is (scripts/servers/radosgw.sh): S3BlobStore's options without a prefix. */
export type TestS3Connection = Pick<S3BlobStoreOptions, 'bucket' | 'region' | 'credentials'> & { endpoint: string };

/**
 * The test S3 server's connection; undefined when GITFLEET_SKIP_REMOTE_STORES=1 leaves it out, an
 * Error saying how to start it when its variables are unset.
 */
export function testS3Connection(): TestS3Connection | Error | undefined {
  if (skipRemoteStores) return undefined;
  const env = remoteEnv(
    [
      'GITFLEET_TEST_S3_ENDPOINT',
      'GITFLEET_TEST_S3_BUCKET',
      'GITFLEET_TEST_S3_ACCESS_KEY',
      'GITFLEET_TEST_S3_SECRET_KEY',
      'GITFLEET_TEST_S3_REGION',
    ],
    'scripts/servers/radosgw.sh start',
  );
  if (env instanceof Error) return env;
  return {
    endpoint: env.GITFLEET_TEST_S3_ENDPOINT,
    bucket: env.GITFLEET_TEST_S3_BUCKET,
    region: env.GITFLEET_TEST_S3_REGION,
    credentials: { accessKeyId: env.GITFLEET_TEST_S3_ACCESS_KEY, secretAccessKey: env.GITFLEET_TEST_S3_SECRET_KEY },
  };
}

/** A name no other server, file or run uses: [a-z0-9-], valid as a Redis namespace and an S3 prefix segment. */
export function uniqueName(label: string): string {
  return `${label}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** The caches a backend's Stores get, made fresh for each opening. */
export type StoreCaches = Omit<Stores, 'blobs' | 'kv'>;

export interface StoresBackend {
  name: string;
  /** Fresh stores with `caches()`; closed when `owner` ends. */
  open(owner: CleanupOwner): Promise<Stores>;
}

/** A blob store and a KV store together: in memory, and the embedded default (files + SQLite). */
export function storesBackends(caches: () => StoreCaches): StoresBackend[] {
  return [
    { name: 'memory', open: async () => ({ blobs: new MemoryBlobStore(), kv: new MemoryKVStore(), ...caches() }) },
    {
      name: 'fs+sqlite',
      async open(owner) {
        const dir = tempDir(owner, 'stores');
        const blobs = await FsBlobStore.open(path.join(dir, 'blobs'));
        const kv = new SqliteKVStore(path.join(dir, 'kv.sqlite'));
        owner.after(async () => {
          await blobs.close();
          await kv.close();
        });
        return { blobs, kv, ...caches() };
      },
    },
  ];
}

export interface KVBackend {
  name: string;
  /** A fresh store, closed when `owner` ends. */
  open(owner: CleanupOwner): KVStore;
}

/** A KV store alone: in memory, and the embedded default (SQLite). */
export const kvBackends: KVBackend[] = [
  { name: 'memory', open: () => new MemoryKVStore() },
  {
    name: 'sqlite',
    open(owner) {
      const kv = new SqliteKVStore(path.join(tempDir(owner, 'kv'), 'kv.sqlite'));
      owner.after(() => kv.close());
      return kv;
    },
  },
];

/**
 * Redis (GITFLEET_TEST_REDIS_URL), unless GITFLEET_SKIP_REMOTE_STORES=1: each opening in a
 * namespace of its own, whose keys are deleted afterwards from every scope it wrote
 * (append-only logs stay: the KV store cannot delete them).
 */
export const redisKvBackends: KVBackend[] = skipRemoteStores
  ? []
  : [
      {
        name: 'redis',
        open(owner) {
          const env = remoteEnv(['GITFLEET_TEST_REDIS_URL'], 'scripts/servers/redis.sh start');
          if (env instanceof Error) throw env;
          const kv = new RedisKVStore({ connection: { url: env.GITFLEET_TEST_REDIS_URL }, namespace: uniqueName('gftest-kv') });
          const written = new Set<string>();
          const compareAndSwap = kv.compareAndSwap.bind(kv);
          kv.compareAndSwap = (scope, ops, mode) => {
            written.add(scope);
            return compareAndSwap(scope, ops, mode);
          };
          owner.after(async () => {
            for (const scope of written) {
              const entries = await kv.scan(scope, '');
              await compareAndSwap(
                scope,
                entries.map(({ key, value }) => ({ key, expect: value, value: null })),
                'each',
              );
            }
            await kv.close();
          });
          return kv;
        },
      },
    ];

/** A new repository `owner/<name>` in `stores`. */
export async function createRepository(stores: Stores, name = 'repo'): Promise<Repository> {
  return new RepositoryRegistry(stores).create('owner', name);
}
