import path from 'node:path';
import { isHttpUrl } from '@gitfleet/events';

// The storage backends' part of the configuration: which BlobStore and KVStore to open and
// how to reach them. Only stores.ts acts on it.

export const BLOB_BACKENDS = ['fs', 's3', 'placement'] as const;
export type BlobBackend = (typeof BLOB_BACKENDS)[number];
export const KV_BACKENDS = ['sqlite', 'redis'] as const;
export type KVBackend = (typeof KV_BACKENDS)[number];

export interface S3Settings {
  /** e.g. http://127.0.0.1:7480; undefined for AWS S3. */
  endpoint?: string;
  region: string;
  bucket: string;
  prefix?: string;
  /** undefined: the AWS SDK's default chain (environment, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** How long a request's socket may stay idle before the attempt fails (S3BlobStore's idleTimeoutMs). */
  idleTimeoutMs: number;
  /** Attempts per request, the first included. */
  maxAttempts: number;
}

/** One blob store: files under a directory, or a bucket (and prefix) of an S3 endpoint. */
export type BlobStoreSpec = { type: 'fs'; path: string } | { type: 's3'; s3: S3Settings };
export type NamedBlobStoreSpec = BlobStoreSpec & { name: string };

export type BlobsConfig =
  | { backend: 'fs' | 's3'; store: BlobStoreSpec }
  | {
      backend: 'placement';
      stores: NamedBlobStoreSpec[];
      replicas: number;
      readTimeoutMs: number;
      writeTimeoutMs: number;
      repair: PlacementRepairSchedule;
    };

/** The background repair of a placement (see maintenance/placement-repair-job.ts). */
export interface PlacementRepairSchedule {
  /** How often the fleet repairs every blob (0: never; `gitfleet repair` still does). */
  intervalMs: number;
  /** Whether the run also removes copies on stores no longer preferred. */
  cleanup: boolean;
  /** Blobs handled at once: low, so that serving requests keeps the stores' attention. */
  concurrency: number;
}

export interface HostPort {
  host: string;
  port: number;
}

export type RedisTarget = { url: string } | { cluster: HostPort[] } | { sentinels: HostPort[]; masterName: string };

export type KVConfig =
  | { backend: 'sqlite'; path: string }
  | {
      backend: 'redis';
      target: RedisTarget;
      /** For Cluster and Sentinel-managed nodes; a single instance takes it in its URL. */
      password?: string;
      namespace: string;
      waitReplicas: number;
      waitTimeoutMs: number;
    };

/** True when some pack bytes come over the network (then larger cache blocks pay off). */
export function usesRemoteBlobs(blobs: BlobsConfig): boolean {
  return blobs.backend === 'placement' ? blobs.stores.some((store) => store.type === 's3') : blobs.store.type === 's3';
}

/** How config.ts hands values to the parsers below: read with defaults, and collect problems. */
export interface EnvReader {
  read(name: string): string;
  problem(text: string): void;
  integer(name: string, min: number, max: number): number;
}

/** GITFLEET_S3_*: the settings of the `s3` backend, and the defaults of placement's s3 stores. */
export function readS3Settings(
  env: EnvReader,
  overrides: Partial<Record<'endpoint' | 'region' | 'bucket' | 'prefix' | 'accessKeyId' | 'secretAccessKey', unknown>> = {},
  where = '',
): S3Settings {
  const pick = (field: keyof typeof overrides, name: string): string => {
    const value = overrides[field];
    if (value === undefined) return env.read(name);
    if (typeof value !== 'string') {
      env.problem(`${where}"${field}" must be a string`);
      return '';
    }
    return value.trim();
  };
  const endpoint = pick('endpoint', 'GITFLEET_S3_ENDPOINT');
  const region = pick('region', 'GITFLEET_S3_REGION');
  const bucket = pick('bucket', 'GITFLEET_S3_BUCKET');
  const prefix = pick('prefix', 'GITFLEET_S3_PREFIX');
  const accessKeyId = pick('accessKeyId', 'GITFLEET_S3_ACCESS_KEY_ID');
  const secretAccessKey = pick('secretAccessKey', 'GITFLEET_S3_SECRET_ACCESS_KEY');
  const label = (name: string) => (where === '' ? name : `${where}${name}`);
  if (endpoint !== '' && !isHttpUrl(endpoint))
    env.problem(`${label('GITFLEET_S3_ENDPOINT')}=${JSON.stringify(endpoint)}: expected an http(s) URL`);
  if (bucket === '') env.problem(`${label('GITFLEET_S3_BUCKET')}: required by the s3 backend`);
  if (region === '') env.problem(`${label('GITFLEET_S3_REGION')}: required by the s3 backend`);
  if (prefix !== '' && !/^[A-Za-z0-9._/-]+$/.test(prefix))
    env.problem(`${label('GITFLEET_S3_PREFIX')}=${JSON.stringify(prefix)}: only [A-Za-z0-9._/-] may occur`);
  // Secrets are never echoed in problems.
  if ((accessKeyId === '') !== (secretAccessKey === '')) {
    env.problem(
      `${label('GITFLEET_S3_ACCESS_KEY_ID')} and ${label('GITFLEET_S3_SECRET_ACCESS_KEY')}: set both, or neither for the SDK's default credentials`,
    );
  }
  return {
    endpoint: endpoint === '' ? undefined : endpoint,
    region,
    bucket,
    prefix: prefix === '' ? undefined : prefix,
    credentials: accessKeyId === '' ? undefined : { accessKeyId, secretAccessKey },
    // The fleet's, for every bucket: they say how long a store that stops answering may hold a request.
    idleTimeoutMs: env.integer('GITFLEET_S3_IDLE_TIMEOUT_MS', 1000, 2 ** 31 - 1),
    maxAttempts: env.integer('GITFLEET_S3_MAX_ATTEMPTS', 1, 20),
  };
}

/**
 * GITFLEET_PLACEMENT_STORES: a JSON array of {name, type: 'fs', path} (relative paths are
 * under the data directory) and {name, type: 's3', endpoint?, region?, bucket?, prefix?,
 * accessKeyId?, secretAccessKey?} (missing fields from GITFLEET_S3_*).
 */
export function readPlacementStores(env: EnvReader, dataDir: string): NamedBlobStoreSpec[] {
  const name = 'GITFLEET_PLACEMENT_STORES';
  const raw = env.read(name);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw === '' ? 'null' : raw);
  } catch (error) {
    env.problem(`${name}: not valid JSON (${(error as Error).message})`);
    return [];
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    env.problem(
      `${name}: expected a JSON array of stores, e.g. [{"name":"a","type":"fs","path":"stores/a"},{"name":"b","type":"s3","bucket":"packs-b"}]`,
    );
    return [];
  }
  const stores: NamedBlobStoreSpec[] = [];
  for (const [index, entry] of parsed.entries()) {
    const where = `${name}[${index}]: `;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      env.problem(`${where}expected an object`);
      continue;
    }
    const spec = entry as Record<string, unknown>;
    if (typeof spec.name !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(spec.name)) {
      env.problem(`${where}"name" must be 1-64 of [A-Za-z0-9._-]; it decides placement, so never rename a store`);
      continue;
    }
    const known =
      spec.type === 'fs'
        ? ['name', 'type', 'path']
        : ['name', 'type', 'endpoint', 'region', 'bucket', 'prefix', 'accessKeyId', 'secretAccessKey'];
    const unknown = Object.keys(spec).filter((field) => !known.includes(field));
    if (unknown.length > 0) env.problem(`${where}unknown field(s) ${unknown.join(', ')} for a store of type ${JSON.stringify(spec.type)}`);
    if (spec.type === 'fs') {
      if (typeof spec.path !== 'string' || spec.path.trim() === '') env.problem(`${where}"path" must be a directory`);
      else stores.push({ name: spec.name, type: 'fs', path: path.resolve(dataDir, spec.path) });
    } else if (spec.type === 's3') {
      stores.push({ name: spec.name, type: 's3', s3: readS3Settings(env, spec, where) });
    } else {
      env.problem(`${where}"type" must be "fs" or "s3"`);
    }
  }
  const seen = new Map<string, string>();
  for (const store of stores) {
    const location =
      store.type === 'fs' ? `fs:${store.path}` : `s3:${store.s3.endpoint ?? 'aws'}/${store.s3.bucket}/${store.s3.prefix ?? ''}`;
    if (seen.has(store.name)) env.problem(`${name}: the name ${JSON.stringify(store.name)} is used twice`);
    const sameLocation = [...seen].find(([, other]) => other === location);
    if (sameLocation)
      env.problem(
        `${name}: stores ${JSON.stringify(sameLocation[0])} and ${JSON.stringify(store.name)} are the same place (${location}); copies there would not be copies`,
      );
    seen.set(store.name, location);
  }
  return stores;
}

/** GITFLEET_REDIS_*: exactly one of a URL, a Cluster's nodes, or Sentinels and a master name. */
export function readRedisTarget(env: EnvReader): RedisTarget {
  const url = env.read('GITFLEET_REDIS_URL');
  const cluster = env.read('GITFLEET_REDIS_CLUSTER');
  const sentinels = env.read('GITFLEET_REDIS_SENTINELS');
  const given = [url, cluster, sentinels].filter((value) => value !== '').length;
  if (given !== 1) {
    env.problem('GITFLEET_REDIS_URL, GITFLEET_REDIS_CLUSTER, GITFLEET_REDIS_SENTINELS: the redis backend needs exactly one of them');
    return { url: '' };
  }
  if (url !== '') {
    if (!/^rediss?:\/\/[^/]/.test(url)) env.problem('GITFLEET_REDIS_URL: expected redis://[user:password@]host:port[/db] or rediss://…');
    return { url };
  }
  if (cluster !== '') return { cluster: hostPorts(env, 'GITFLEET_REDIS_CLUSTER', cluster) };
  const masterName = env.read('GITFLEET_REDIS_SENTINEL_MASTER');
  if (masterName === '')
    env.problem('GITFLEET_REDIS_SENTINEL_MASTER: required with GITFLEET_REDIS_SENTINELS (the name Sentinel monitors the master under)');
  return { sentinels: hostPorts(env, 'GITFLEET_REDIS_SENTINELS', sentinels), masterName };
}

function hostPorts(env: EnvReader, name: string, text: string): HostPort[] {
  return text.split(',').flatMap((item) => {
    const match = /^\s*(\[[^\]]+\]|[^\s:,]+):(\d{1,5})\s*$/.exec(item);
    const port = match ? Number(match[2]) : NaN;
    if (!match || !(port >= 1 && port <= 65535)) {
      env.problem(
        `${name}: ${JSON.stringify(item.trim())} is not host:port (expected a comma-separated list, e.g. 10.0.0.1:7000,10.0.0.2:7000)`,
      );
      return [];
    }
    return [{ host: match[1].replace(/^\[|\]$/g, ''), port }];
  });
}
