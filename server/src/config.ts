import path from 'node:path';
import type { ProtocolLimits } from '@gitfleet/protocol';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Which backend holds packs; S3 joins this list next. */
export const BLOB_STORE_KINDS = ['fs'] as const;
export type BlobStoreKind = (typeof BLOB_STORE_KINDS)[number];
/** Which backend holds refs and registries; Redis joins this list next. */
export const KV_STORE_KINDS = ['sqlite'] as const;
export type KVStoreKind = (typeof KV_STORE_KINDS)[number];

export interface ServerConfig {
  host: string;
  /** 0 lets the system pick a free port. */
  port: number;
  /** Absolute path of the directory holding every byte the server keeps. */
  dataDir: string;
  /** Base URL used in clone URLs; when unset, the URL the client reached the server by. */
  publicUrl?: string;
  blobStore: BlobStoreKind;
  kvStore: KVStoreKind;
  limits: ProtocolLimits;
  cache: {
    /** Upper bound of the pack-bytes block cache. */
    maxBytes: number;
    blockSize: number;
  };
  timeouts: {
    /** Time allowed to receive request headers (slow-loris guard). */
    headersMs: number;
    /** Time allowed to receive a whole request; generous because pushes can be gigabytes. */
    requestMs: number;
    /** A socket with no traffic in either direction for this long is closed. */
    idleMs: number;
  };
  logLevel: LogLevel;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;

/** Every environment variable the server reads, with its default (documented in README.md). */
export const ENVIRONMENT = {
  HOST: '127.0.0.1',
  PORT: '8080',
  GITFLEET_DATA_DIR: './data',
  GITFLEET_PUBLIC_URL: '',
  GITFLEET_BLOB_STORE: 'fs',
  GITFLEET_KV_STORE: 'sqlite',
  GITFLEET_MAX_PACK_BYTES: '2GiB',
  GITFLEET_MAX_OBJECT_BYTES: '512MiB',
  GITFLEET_MAX_REQUEST_BYTES: '64MiB',
  GITFLEET_CACHE_BYTES: '256MiB',
  GITFLEET_CACHE_BLOCK_BYTES: '64KiB',
  GITFLEET_HEADERS_TIMEOUT_MS: '60000',
  GITFLEET_REQUEST_TIMEOUT_MS: '3600000',
  GITFLEET_IDLE_TIMEOUT_MS: '600000',
  LOG_LEVEL: 'info',
} as const;

type EnvName = keyof typeof ENVIRONMENT;

/**
 * Reads and validates the configuration. Every problem is collected so that one start
 * attempt reports all of them at once.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env, cwd = process.cwd()): ServerConfig {
  const problems: string[] = [];
  const read = (name: EnvName): string => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? ENVIRONMENT[name] : value;
  };
  const bytes = (name: EnvName, min: number): number => {
    const raw = read(name);
    const value = parseByteSize(raw);
    if (value === undefined || value < min || !Number.isSafeInteger(value)) {
      problems.push(`${name}=${JSON.stringify(raw)}: expected a byte size of at least ${min} (e.g. 65536, 64KiB, 512MiB, 2GiB)`);
      return 0;
    }
    return value;
  };
  const integer = (name: EnvName, min: number, max: number): number => {
    const raw = read(name);
    const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!(value >= min && value <= max)) {
      problems.push(`${name}=${JSON.stringify(raw)}: expected an integer from ${min} to ${max}`);
      return 0;
    }
    return value;
  };
  const oneOf = <T extends string>(name: EnvName, allowed: readonly T[]): T => {
    const raw = read(name);
    if (!(allowed as readonly string[]).includes(raw)) {
      problems.push(`${name}=${JSON.stringify(raw)}: expected one of ${allowed.join(', ')}`);
      return allowed[0];
    }
    return raw as T;
  };

  const host = read('HOST');
  if (/[\s/]/.test(host)) problems.push(`HOST=${JSON.stringify(host)}: expected a host name or IP address`);

  const publicUrl = read('GITFLEET_PUBLIC_URL').replace(/\/+$/, '');
  if (publicUrl !== '' && !isHttpUrl(publicUrl)) {
    problems.push(`GITFLEET_PUBLIC_URL=${JSON.stringify(publicUrl)}: expected an http(s) URL`);
  }

  const config: ServerConfig = {
    host,
    port: integer('PORT', 0, 65535),
    dataDir: path.resolve(cwd, read('GITFLEET_DATA_DIR')),
    publicUrl: publicUrl === '' ? undefined : publicUrl,
    blobStore: oneOf('GITFLEET_BLOB_STORE', BLOB_STORE_KINDS),
    kvStore: oneOf('GITFLEET_KV_STORE', KV_STORE_KINDS),
    limits: {
      maxPackBytes: bytes('GITFLEET_MAX_PACK_BYTES', 1),
      maxObjectSize: bytes('GITFLEET_MAX_OBJECT_BYTES', 1),
      maxRequestBytes: bytes('GITFLEET_MAX_REQUEST_BYTES', 1),
    },
    cache: {
      maxBytes: bytes('GITFLEET_CACHE_BYTES', 0),
      blockSize: bytes('GITFLEET_CACHE_BLOCK_BYTES', 512),
    },
    timeouts: {
      headersMs: integer('GITFLEET_HEADERS_TIMEOUT_MS', 1, 2 ** 31 - 1),
      requestMs: integer('GITFLEET_REQUEST_TIMEOUT_MS', 0, 2 ** 31 - 1),
      idleMs: integer('GITFLEET_IDLE_TIMEOUT_MS', 0, 2 ** 31 - 1),
    },
    logLevel: oneOf('LOG_LEVEL', LOG_LEVELS),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: KIB, kb: KIB, kib: KIB, m: MIB, mb: MIB, mib: MIB, g: GIB, gb: GIB, gib: GIB };

/** "65536", "64k", "64KiB", "2GiB" → bytes (binary multiples throughout, as git's config does). */
export function parseByteSize(text: string): number | undefined {
  const match = /^(\d+)\s*([a-z]*)$/i.exec(text.trim());
  if (!match) return undefined;
  const unit = UNITS[match[2].toLowerCase()];
  return unit === undefined ? undefined : Number(match[1]) * unit;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
