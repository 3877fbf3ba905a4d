import { spawn } from 'node:child_process';
import { mapConcurrently, S3BlobStore } from '@gitfleet/storage';
import { uniqueName } from './stores.js';

/**
 * Which storage the end-to-end servers run on, from GITFLEET_E2E_BACKEND:
 * - embedded (default): the server's defaults, files and SQLite under its data directory;
 * - distributed: S3 (GITFLEET_TEST_S3_*) and Redis (GITFLEET_TEST_REDIS_URL), the servers
 *   scripts/servers/{radosgw,redis}.sh start. Every server gets its own S3 prefix and Redis
 *   namespace, so runs and files share those servers without seeing each other's data.
 * One value per run; scripts/test.sh runs the suite once per backend.
 */
export const E2E_BACKENDS = ['embedded', 'distributed'] as const;
export type E2EBackendKind = (typeof E2E_BACKENDS)[number];

export function selectedBackend(): E2EBackendKind {
  const value = (process.env.GITFLEET_E2E_BACKEND ?? '').trim() || 'embedded';
  if (!(E2E_BACKENDS as readonly string[]).includes(value)) {
    throw new Error(`GITFLEET_E2E_BACKEND=${JSON.stringify(value)}: expected one of ${E2E_BACKENDS.join(', ')} (one per run)`);
  }
  return value as E2EBackendKind;
}

/**
 * The `skip` option of tests that need the S3 and Redis servers: set only when
 * GITFLEET_SKIP_REMOTE_STORES=1 says so explicitly (a missing server otherwise fails them).
 */
export const skipWithoutRemoteStores = process.env.GITFLEET_SKIP_REMOTE_STORES === '1' ? 'GITFLEET_SKIP_REMOTE_STORES=1' : undefined;

/**
 * The `skip` option of a test that needs the test server named by `variable` (say
 * GITFLEET_TEST_REDIS_URL): skipped when GITFLEET_SKIP_REMOTE_STORES=1 or the variable is unset.
 */
export function skipWithoutServer(variable: string): string | false {
  if (process.env.GITFLEET_SKIP_REMOTE_STORES === '1') return 'GITFLEET_SKIP_REMOTE_STORES=1';
  return process.env[variable] ? false : `${variable} is not set (start the test servers, see scripts/servers)`;
}

/** Storage for one or more servers: the environment that selects it, and its removal. */
export interface StorageBackend {
  readonly kind: E2EBackendKind;
  /** Server environment variables (GITFLEET_BLOB_BACKEND, GITFLEET_KV_BACKEND and theirs). */
  readonly env: Record<string, string>;
  /** Removes every blob and key the servers wrote (embedded data goes with the data directory). */
  dispose(): Promise<void>;
}

export interface S3Target {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** Where the test S3 store and Redis are; throws naming the missing variables. */
export function s3Target(): S3Target {
  const [endpoint, bucket, accessKeyId, secretAccessKey] = requireEnv(
    'GITFLEET_TEST_S3_ENDPOINT',
    'GITFLEET_TEST_S3_BUCKET',
    'GITFLEET_TEST_S3_ACCESS_KEY',
    'GITFLEET_TEST_S3_SECRET_KEY',
  );
  return { endpoint, bucket, accessKeyId, secretAccessKey, region: process.env.GITFLEET_TEST_S3_REGION || 'us-east-1' };
}

export function redisUrl(): string {
  return requireEnv('GITFLEET_TEST_REDIS_URL')[0];
}

/** The Cluster's nodes, `host:port,host:port,…`. */
export function redisClusterNodes(): string {
  return requireEnv('GITFLEET_TEST_REDIS_CLUSTER')[0];
}

function requireEnv(...names: string[]): string[] {
  const missing = names.filter((name) => !process.env[name]);
  if (missing.length > 0) {
    throw new Error(
      `${missing.join(', ')} not set: the distributed backend needs the test servers; ` +
        'run `eval "$(scripts/servers/radosgw.sh start)"; eval "$(scripts/servers/redis.sh start)"` ' +
        '(add `eval "$(scripts/servers/redis.sh start --cluster)"` for cluster tests), or use scripts/test.sh',
    );
  }
  return names.map((name) => process.env[name]!);
}

export function s3StoreEnv(target: S3Target, prefix: string): Record<string, string> {
  return {
    GITFLEET_S3_ENDPOINT: target.endpoint,
    GITFLEET_S3_REGION: target.region,
    GITFLEET_S3_BUCKET: target.bucket,
    GITFLEET_S3_PREFIX: prefix,
    GITFLEET_S3_ACCESS_KEY_ID: target.accessKeyId,
    GITFLEET_S3_SECRET_ACCESS_KEY: target.secretAccessKey,
  };
}

/** The backend GITFLEET_E2E_BACKEND selects, fresh (nothing shared with any other server). */
export async function selectedStorage(): Promise<StorageBackend> {
  return selectedBackend() === 'embedded' ? embeddedStorage() : distributedStorage();
}

export function embeddedStorage(): StorageBackend {
  return { kind: 'embedded', env: {}, dispose: async () => {} };
}

/**
 * S3 under a fresh prefix plus Redis under a fresh namespace: a single instance, or the
 * Cluster with `{ redis: 'cluster' }`. Several servers started with the same `env` share
 * one repository space, as a fleet of frontends does.
 */
export function distributedStorage(
  options: { redis?: 'single' | 'cluster'; label?: string; extraEnv?: Record<string, string> } = {},
): StorageBackend {
  const target = s3Target();
  const cluster = options.redis === 'cluster';
  const redisLocation = cluster ? redisClusterNodes() : redisUrl();
  const name = uniqueName(options.label ?? 'e2e');
  const prefix = `gitfleet-e2e/${name}/`;
  return {
    kind: 'distributed',
    env: {
      GITFLEET_BLOB_BACKEND: 's3',
      ...s3StoreEnv(target, prefix),
      GITFLEET_KV_BACKEND: 'redis',
      [cluster ? 'GITFLEET_REDIS_CLUSTER' : 'GITFLEET_REDIS_URL']: redisLocation,
      GITFLEET_REDIS_NAMESPACE: name,
      ...options.extraEnv,
    },
    async dispose() {
      await Promise.all([deleteS3Prefix(target, prefix), deleteRedisNamespace(redisLocation, cluster, name)]);
    },
  };
}

/** The test bucket's objects under `prefix`, as a BlobStore. */
export function s3BlobStore(target: S3Target, prefix: string): S3BlobStore {
  return new S3BlobStore({
    endpoint: target.endpoint,
    bucket: target.bucket,
    region: target.region,
    prefix,
    credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
  });
}

/** Deletes every object under `prefix` of the test bucket. */
export async function deleteS3Prefix(target: S3Target, prefix: string): Promise<void> {
  const store = s3BlobStore(target, prefix);
  try {
    const keys: string[] = [];
    for await (const { key } of store.list('')) keys.push(key);
    await mapConcurrently(keys, 16, (key) => store.delete(key));
  } finally {
    await store.close();
  }
}

/**
 * Deletes every key of a namespace with redis-cli (the test package has no Redis client of
 * its own): on each master of a Cluster, on the one instance otherwise.
 */
export async function deleteRedisNamespace(location: string, cluster: boolean, namespace: string): Promise<void> {
  const nodes = cluster ? await clusterMasters(location) : [['-u', location]];
  for (const node of nodes) {
    const keys = (await redisCli([...node, '--scan', '--pattern', `${namespace}:*`])).split('\n').filter((key) => key !== '');
    if (keys.length === 0) continue;
    // One DEL per line, each key hex-escaped so that no byte of it is parsed as syntax.
    const script = keys
      .map((key) => `DEL "${[...Buffer.from(key)].map((byte) => `\\x${byte.toString(16).padStart(2, '0')}`).join('')}"\n`)
      .join('');
    await redisCli(node, script);
  }
}

/** `-h host -p port` of every master of the Cluster one of whose nodes is in `nodes`. */
async function clusterMasters(nodes: string): Promise<string[][]> {
  const [host, port] = nodes.split(',')[0].split(':');
  const table = await redisCli(['-h', host, '-p', port, 'cluster', 'nodes']);
  return parseClusterNodes(table)
    .filter((node) => node.master && node.connected)
    .map((node) => ['-h', node.host, '-p', String(node.port)]);
}

export interface ClusterNode {
  id: string;
  host: string;
  port: number;
  master: boolean;
  /** For a replica, the id of its master. */
  masterId?: string;
  connected: boolean;
  /** Slot ranges [first, last] a master serves. */
  slots: Array<[number, number]>;
}

/** Parses `CLUSTER NODES`. */
export function parseClusterNodes(table: string): ClusterNode[] {
  return table
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [id, address, flags, masterId, , , , linkState, ...slots] = line.trim().split(' ');
      const [, host, port] = /^(.*):(\d+)@/.exec(address) ?? [];
      return {
        id,
        host,
        port: Number(port),
        master: flags.split(',').includes('master'),
        masterId: masterId === '-' ? undefined : masterId,
        connected: linkState === 'connected' && !flags.includes('fail'),
        slots: slots
          .filter((slot) => /^\d/.test(slot))
          .map((slot) => {
            const [first, last = first] = slot.split('-').map(Number);
            return [first, last] as [number, number];
          }),
      };
    });
}

/** Runs redis-cli with `args`, `input` on stdin; resolves with stdout, rejects on failure or an error reply. */
export function redisCli(args: string[], input = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      // redis-cli exits 0 on error replies; they start with ERR / MOVED… on stdout.
      const errorReply = /^(ERR|MOVED|ASK|CLUSTERDOWN|READONLY|WRONGTYPE|NOSCRIPT)\b.*$/m.exec(stdout);
      if (code !== 0 || errorReply)
        reject(new Error(`redis-cli ${args.join(' ')} failed (exit ${code}): ${errorReply?.[0] ?? stderr.trim()}`));
      else resolve(stdout);
    });
    // redis-cli may exit before it reads stdin (EPIPE); its exit code and output decide.
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}
