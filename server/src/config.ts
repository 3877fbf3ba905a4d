import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { defaultWorkers, machineCores } from './cluster/machine-cores.js';
import path from 'node:path';
import { InvalidAllowedNetwork, isHttpUrl, MIN_FENCE_AGE_MS, validateAllowedNetworks, type PayloadLimits } from '@gitfleet/events';
import { GIT_MAX_DELTA_DEPTH, type PackLimits } from '@gitfleet/git-format';
import { DEFAULT_REGISTRY_MAX_AGE_MS, type LockLimits } from '@gitfleet/repository';
import type { ProtocolLimits } from '@gitfleet/protocol';
import { MAX_CONCATENATED_PART_BYTES, MAX_CONCATENATED_PARTS, MIN_CONCATENATED_PART_BYTES } from '@gitfleet/storage';
import {
  BLOB_BACKENDS,
  KV_BACKENDS,
  readPlacementStores,
  readRedisTarget,
  readS3Settings,
  usesRemoteBlobs,
  type BlobsConfig,
  type EnvReader,
  type KVConfig,
} from './backend-config.js';
import type { ConnectionLimits } from './limits/connection-gate.js';
import type { PushLimits } from './limits/push-slots.js';
import type { BodyRateLimits } from './limits/slow-body.js';

export * from './backend-config.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface ServerConfig {
  host: string;
  /** 0 lets the system pick a free port. */
  port: number;
  /** Absolute path of the directory holding every byte the server keeps. */
  dataDir: string;
  /** Base URL used in clone URLs; when unset, the URL the client reached the server by. */
  publicUrl?: string;
  /** Where packs and indexes live (only stores.ts opens them). */
  blobs: BlobsConfig;
  /** Where refs and registries live (only stores.ts opens it). */
  kv: KVConfig;
  limits: ProtocolLimits;
  packIndexing: PackIndexingConfig;
  cache: {
    /** Upper bound of the pack-bytes block cache. */
    maxBytes: number;
    /** Aligned block size: 64 KiB over local files, 1 MiB when a store is remote (see ENVIRONMENT). */
    blockSize: number;
    /** Upper bound of the parsed pack indexes kept in memory (lookups need them hot). */
    indexBytes: number;
    /** Upper bound of the resolved delta bases kept in memory. */
    deltaBaseBytes: number;
    /** Upper bound of the deltas kept re-encoded whole for clients without their base (shallow clones). */
    reencodedBytes: number;
    /** Upper bound of the loaded reachability bitmaps and commit-graphs (estimated from their packs' object counts). */
    bitmapBytes: number;
    commitGraphBytes: number;
    /** Upper bound of the ref listings kept while current (advertisements of repositories with many refs). */
    refListingBytes: number;
  };
  timeouts: {
    /** Time allowed to receive request headers (slow-loris guard). */
    headersMs: number;
    /** Time allowed to receive a whole request; generous because pushes can be gigabytes. */
    requestMs: number;
    /** A socket with no traffic in either direction for this long is closed. */
    idleMs: number;
    /** A response whose client takes none of the bytes waiting to be sent for this long is cut. */
    sendStallMs: number;
  };
  /**
   * Processes serving the port (node:cluster workers); 1: the server is one process. The other
   * budgets here are the machine's: each worker takes its share (server/src/cluster/worker-share.ts).
   */
  workers: number;
  /** Many and slow clients: see server/src/limits. */
  connections: ConnectionLimits & BodyRateLimits;
  pushes: PushLimits;
  logLevel: LogLevel;
  /** Webhook deliveries (see packages/events). */
  hooks: HooksConfig;
  /**
   * A push to a repository that does not exist creates it (private) when the pusher may create
   * repositories under that owner (Gitea's ENABLE_PUSH_CREATE_USER/ORG). Off by default.
   */
  pushCreate: boolean;
  /** Created as a site administrator at start-up when no user of that name exists. */
  bootstrapAdmin?: BootstrapAdminConfig;
  /** How long a web session lasts after sign-in. */
  sessionTtlMs: number;
  loginThrottle: LoginThrottleConfig;
  passwordChecks: PasswordCheckConfig;
  /**
   * Which proxies in front of the server are believed about the client (X-Forwarded-For) and
   * the scheme (X-Forwarded-Proto): false (none, the default), a hop count, or their addresses
   * and CIDR ranges (express's "trust proxy").
   */
  trustProxy: false | number | string[];
  browse: BrowseConfig;
  maintenance: MaintenanceConfig;
  metrics: MetricsConfig;
  packfileUris: PackfileUrisConfig;
  /** Whether a pack a push received in memory is stored as one blob with its idx (PackStores.joinPacks). */
  joinedPacks: boolean;
  lfsLocks: LfsLocksConfig;
  lfs: LfsConfig;
}

/** Git LFS file locks (server/src/lfs/locks): how many, how long a path, and what enforcing them at push may cost. */
export interface LfsLocksConfig extends LockLimits {
  /**
   * (tree lookup × path locked by someone else) pairs one push may need checked, for all its refs
   * (a new commit costs a lookup of its tree and of each parent's, an updated ref two more); the ref
   * that would pass it and every ref after it are refused, with a message saying so.
   */
  maxChecksPerPush: number;
}

/** Git LFS objects (server/src/lfs). */
export interface LfsConfig {
  /** 'direct': bytes go straight between client and object store when the blob store makes presigned URLs; 'server': always through the server. */
  transfer: 'direct' | 'server';
  /** Largest object a batch accepts for upload (5 GiB is S3's limit for one PUT). */
  maxObjectBytes: number;
  /** Objects one batch request may name. */
  maxBatchObjects: number;
  /** Bytes of one batch request's JSON. */
  maxBatchBytes: number;
  /** How long the URLs of a batch answer may be used to start their transfer. */
  actionExpirySeconds: number;
  /**
   * Uploads that resume where they broke off (git-lfs's `tus` adapter, server/src/lfs/resumable-uploads.ts),
   * when the client offers them: always where the server streams the bytes anyway, and from this
   * size on where they would go straight to the object store (they then pass through the server).
   */
  resumableMinBytes: number;
  /** Bytes per piece of a resumable upload: the most a broken upload sends again. */
  resumablePieceBytes: number;
}

/**
 * Git's packfile URIs: a clone whose client asks for them (`fetch.uriProtocols`) downloads the
 * repacked pack from a URL, and only what was pushed since comes inline.
 */
export interface PackfileUrisConfig {
  /**
   * 'direct': a presigned URL of the object store where the blob store makes one, else a signed
   * URL of the server itself (which streams the stored pack as it is); 'server': always the
   * server's own (object storage that clients cannot reach); 'off': none offered.
   */
  mode: 'direct' | 'server' | 'off';
  /** How long a URL may be used to start the download (the client does so once the inline pack is indexed). */
  expirySeconds: number;
  /** HMAC key of the server's own URLs; undefined: generated once and kept in the KV store. */
  secret?: string;
}

/** A configured signing secret is as strong as a generated one (32 random bytes, in hex). */
export const MIN_PACKFILE_URI_SECRET_LENGTH = 32;

/** Background maintenance of repositories' packs (compaction, full repacks, collection). */
export interface MaintenanceConfig {
  /** Off: packs are only ever added, unless `gitfleet maintenance run` is used. */
  enabled: boolean;
  /** Repositories this process maintains at once. */
  concurrency: number;
  /** How often every repository is checked (0: only after pushes). */
  sweepIntervalMs: number;
  /** A run in a child process still going after this long is stopped (see maintenance/child-runner.ts). */
  maxRunMs: number;
  /**
   * How long a replaced pack stays readable, and an unregistered pack blob is left alone, before the
   * collector deletes it: longer than any request (a clone may still be reading a replaced pack) and
   * any push (which stores its pack before registering it).
   */
  graceSeconds: number;
}

/** Reading repositories on the web and through the API: every bound of one page or answer. */
export interface BrowseConfig {
  /** Threads of each browsing pool (diffs; Markdown and highlighting); 0: one per core. */
  threads: number;
  /** Tasks waiting per pool beyond the running ones; a request finding it full gets 503. */
  queue: number;
  /** One budget per diff (a commit, a comparison): time spent diffing and lines, over all its files. */
  diffTimeMs: number;
  diffMaxLines: number;
  /** Added plus removed lines past which one file's diff gives up. */
  diffMaxEditLength: number;
  /** Computed diffs kept, by tree pair. */
  diffCacheBytes: number;
  /** Markdown is rendered and code highlighted up to this size… */
  renderMaxBytes: number;
  /** …each render stopped after this long (the wait for a free thread included). */
  renderTimeoutMs: number;
  /** A file page shows a file up to this size (plain above renderMaxBytes); larger ones link to raw. */
  displayMaxBytes: number;
  /** Deltified objects rebuilt whole in memory to be streamed, at most this many bytes at once. */
  inMemoryReadBytes: number;
  /** Entries of one directory listed (pages and the contents API). */
  treeMaxEntries: number;
}

/** Prometheus metrics at GET /metrics. */
export interface MetricsConfig {
  enabled: boolean;
  /** When set, a client that is not on this machine may read them with "Authorization: Bearer <token>". */
  token?: string;
}

/** Pushed packs are indexed on a pool of worker threads, within limits on what they expand to. */
export interface PackIndexingConfig {
  limits: PackLimits;
  /** Threads of the pool; undefined: every core but one. */
  threads?: number;
  /** Pushes waiting for a thread before more are refused; undefined: 16 per thread. */
  maxQueue?: number;
}

/** The first administrator of an automated deployment (GITFLEET_ADMIN_*); the CLI is the interactive way. */
export interface BootstrapAdminConfig {
  name: string;
  password: string;
  email: string;
  /** Registered as the token "bootstrap" with every scope; at least 32 characters. */
  token?: string;
}

/** Failed logins (passwords and unknown tokens) allowed per window before answers become 429. */
export interface LoginThrottleConfig {
  /** For one user name from one address. */
  perUserAndIp: number;
  /** From one address, whatever the user names. */
  perIp: number;
  windowSeconds: number;
}

/**
 * Password verifications (argon2, costly in CPU and memory on the shared libuv pool) at once, for
 * the machine: cluster workers take turns from their primary, which bounds the running and the
 * waiting ones for all of them; each worker also admits its share only.
 */
export interface PasswordCheckConfig {
  /** Running at once. */
  concurrent: number;
  /** Waiting for a turn beyond those; more are refused (503). */
  queue: number;
  /** Running or waiting for one client address; more are refused (429). */
  perIp: number;
}

/** The bootstrap administrator's token is a secret as strong as a generated one (40 base62 characters). */
export const MIN_ADMIN_TOKEN_LENGTH = 32;
/** A metrics token guards less (read-only counters) but is still guessed over the network: 16 characters at least. */
export const MIN_METRICS_TOKEN_LENGTH = 16;

export interface HooksConfig {
  /** Per attempt: connect, send, answer. */
  timeoutMs: number;
  /** Attempts of one delivery, the first included. */
  maxAttempts: number;
  /** Delay before the first retry, doubled for each later one up to maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
  /** A hook is deactivated after this many deliveries in a row failed for good; 0 never. */
  disableAfter: number;
  /** Deliveries sent at once by one server process. */
  concurrency: number;
  /** Embedded queue: how often idle workers look for jobs queued by other processes. */
  pollMs: number;
  /**
   * Embedded queue: how long a job stays reserved for a worker that stopped renewing it (it
   * renews every third of it while it runs); a job of a crashed process waits this long.
   */
  leaseMs: number;
  /** Attempts kept in each hook's delivery log. */
  keepAttempts: number;
  /** Dead letters (deliveries failed for good) kept per hook; beyond, the oldest are evicted and counted. */
  keepDeadLetters: number;
  /**
   * How long a push's recorded events wait for the push to finish its ref update; only the
   * events of a push whose process died in between wait this long.
   */
  recoveryDelayMs: number;
  /**
   * The youngest a push's recorded events may be when its fence is set, which fails the push if it
   * is still alive (the recovery delay counts if longer): MIN_FENCE_AGE_MS, which covers a Redis
   * failover. Only the test-only GITFLEET_TEST_HOOK_MIN_FENCE_AGE_MS lowers it, so that tests of
   * the fence need not wait a minute; it is not documented for operators.
   */
  minFenceAgeMs: number;
  /** Networks (CIDR), addresses and host names hooks may reach although they are loopback, private, link-local… */
  allowedNetworks: string[];
  branchFilter: {
    /** Characters of a branch filter. */
    maxLength: number;
    /** `*`, `**`, `?`, `[…]` and `{…}` of a branch filter. */
    maxWildcards: number;
  };
  /** Hooks of one repository or owner. */
  maxHooksPerTarget: number;
  /** Automaton states the branch filters of one push may visit together; pairs left undecided do not match. */
  branchFilterStepsPerPush: number;
  /** Commit statuses one commit may have, all contexts together. */
  statusesPerCommit: number;
  /** Files listed per commit of a push payload; tree entries read and path bytes listed per push. */
  payload: PayloadLimits;
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
  GITFLEET_BLOB_BACKEND: 'fs',
  GITFLEET_KV_BACKEND: 'sqlite',
  GITFLEET_S3_ENDPOINT: '',
  GITFLEET_S3_REGION: 'us-east-1',
  GITFLEET_S3_BUCKET: '',
  GITFLEET_S3_PREFIX: '',
  GITFLEET_S3_ACCESS_KEY_ID: '',
  GITFLEET_S3_SECRET_ACCESS_KEY: '',
  GITFLEET_S3_IDLE_TIMEOUT_MS: '120000',
  GITFLEET_S3_MAX_ATTEMPTS: '5',
  GITFLEET_PLACEMENT_STORES: '',
  GITFLEET_PLACEMENT_REPLICAS: '2',
  GITFLEET_PLACEMENT_READ_TIMEOUT_MS: '2000',
  GITFLEET_PLACEMENT_WRITE_TIMEOUT_MS: '600000',
  // Daily: a lost store is noticed by reads at once; the job restores the copies it held.
  GITFLEET_PLACEMENT_REPAIR_SECONDS: '86400',
  GITFLEET_PLACEMENT_CLEANUP: '1',
  GITFLEET_PLACEMENT_REPAIR_CONCURRENCY: '2',
  GITFLEET_REDIS_URL: '',
  GITFLEET_REDIS_CLUSTER: '',
  GITFLEET_REDIS_SENTINELS: '',
  GITFLEET_REDIS_SENTINEL_MASTER: '',
  GITFLEET_REDIS_PASSWORD: '',
  GITFLEET_REDIS_NAMESPACE: 'gf',
  GITFLEET_REDIS_WAIT_REPLICAS: '0',
  GITFLEET_REDIS_WAIT_TIMEOUT_MS: '1000',
  GITFLEET_MAX_PACK_BYTES: '2GiB',
  GITFLEET_MAX_OBJECT_BYTES: '512MiB',
  // git's own http-backend buffers upload-pack requests up to 10 MB (GIT_HTTP_MAX_REQUEST_BUFFER),
  // enough for a 100,000-ref negotiation; real clients therefore stay within it.
  GITFLEET_MAX_REQUEST_BYTES: '10MiB',
  // A 10 MiB request of 50-byte "have" lines is 210,000 packets.
  GITFLEET_MAX_REQUEST_PACKETS: '262144',
  // A mirror push of git.git (~4,300 refs) is ~0.5 MiB of commands.
  GITFLEET_MAX_PUSH_COMMAND_BYTES: '4MiB',
  GITFLEET_MAX_PUSH_COMMANDS: '10000',
  GITFLEET_MAX_PUSH_OPTIONS: '100',
  GITFLEET_MAX_REF_NAME_BYTES: '1024',
  // 10,000 refs four levels deep (refs/heads/team/topic); a mirror of git.git takes ~13,000.
  GITFLEET_MAX_PUSH_REF_LEVELS: '40000',
  GITFLEET_PUSH_MAX_INFLATED_BYTES: '64GiB',
  GITFLEET_PUSH_MAX_EXPANSION_RATIO: '1000',
  GITFLEET_PUSH_EXPANSION_ALLOWANCE: '512MiB',
  GITFLEET_PUSH_MAX_DELTA_DEPTH: '4095',
  // Empty: every core; the queue 16 pushes per thread.
  GITFLEET_INDEX_THREADS: '',
  GITFLEET_INDEX_QUEUE: '',
  GITFLEET_CACHE_BYTES: '128MiB',
  // Empty: 64KiB when every store is local (little waste per read), 1MiB when one is
  // remote (a round trip costs as much as reading a megabyte; fewer, larger reads win).
  GITFLEET_CACHE_BLOCK_BYTES: '',
  GITFLEET_INDEX_CACHE_BYTES: '256MiB',
  GITFLEET_DELTA_CACHE_BYTES: '64MiB',
  GITFLEET_REENCODED_CACHE_BYTES: '64MiB',
  GITFLEET_BITMAP_CACHE_BYTES: '256MiB',
  GITFLEET_COMMIT_GRAPH_CACHE_BYTES: '64MiB',
  GITFLEET_REF_LISTING_CACHE_BYTES: '32MiB',
  // Apache's mod_reqtimeout default (header=20-40); a real client sends its headers at once.
  GITFLEET_HEADERS_TIMEOUT_MS: '20000',
  // Also mod_reqtimeout's defaults (body=20,MinRate=500).
  GITFLEET_BODY_WINDOW_MS: '20000',
  GITFLEET_BODY_MIN_BYTES_PER_SECOND: '500',
  // Empty: one process up to two cores, else one per core (of the container's CPU quota, when it has one).
  GITFLEET_WORKERS: '',
  GITFLEET_MAX_CONNECTIONS: '1024',
  // Behind a proxy that hides client addresses, set 0 and limit at the proxy.
  GITFLEET_MAX_CONNECTIONS_PER_CLIENT: '64',
  // With the 2 GiB pack limit: at most 32 GiB of spool disk, 8 GiB for one account.
  GITFLEET_MAX_PUSHES: '16',
  GITFLEET_MAX_PUSHES_PER_ACCOUNT: '4',
  // Long enough for a queued push to outlast a few small ones ahead of it; git waits for its answer.
  GITFLEET_PUSH_WAIT_MS: '30000',
  GITFLEET_REQUEST_TIMEOUT_MS: '3600000',
  GITFLEET_IDLE_TIMEOUT_MS: '600000',
  // git reads its pack as fast as it can index it; a minute of taking nothing is a dead or hostile reader.
  GITFLEET_SEND_STALL_MS: '60000',
  GITFLEET_HOOK_TIMEOUT_MS: '10000',
  GITFLEET_HOOK_MAX_ATTEMPTS: '15',
  GITFLEET_HOOK_BACKOFF_MS: '10000',
  GITFLEET_HOOK_MAX_BACKOFF_MS: '3600000',
  GITFLEET_HOOK_DISABLE_AFTER: '20',
  GITFLEET_HOOK_CONCURRENCY: '4',
  GITFLEET_HOOK_POLL_MS: '1000',
  GITFLEET_HOOK_LEASE_MS: '30000',
  GITFLEET_HOOK_LOG_KEEP: '100',
  GITFLEET_HOOK_DEAD_LETTERS_KEEP: '1000',
  GITFLEET_HOOK_RECOVERY_DELAY_MS: '10000',
  // Comma-separated; empty: hooks reach public addresses only.
  GITFLEET_HOOK_ALLOWED_NETWORKS: '',
  GITFLEET_HOOK_BRANCH_FILTER_MAX_LENGTH: '256',
  GITFLEET_HOOK_BRANCH_FILTER_MAX_WILDCARDS: '32',
  // GitHub's: 20 webhooks per event per repository or organisation.
  GITFLEET_HOOKS_PER_TARGET: '20',
  GITFLEET_HOOK_PAYLOAD_FILES_PER_COMMIT: '3000',
  GITFLEET_HOOK_PAYLOAD_TREE_ENTRIES: '2000000',
  GITFLEET_HOOK_PAYLOAD_PATH_BYTES: '8MiB',
  // ~1.5 s of matching, in 5 ms turns; realistic filters over a 10,000-ref mirror push need a few million.
  GITFLEET_HOOK_BRANCH_FILTER_STEPS_PER_PUSH: '100000000',
  GITFLEET_STATUSES_PER_COMMIT: '1000',
  GITFLEET_PUSH_CREATE: '0',
  GITFLEET_ADMIN_USER: '',
  GITFLEET_ADMIN_PASSWORD: '',
  GITFLEET_ADMIN_EMAIL: '',
  GITFLEET_ADMIN_TOKEN: '',
  GITFLEET_SESSION_TTL_HOURS: '336',
  GITFLEET_LOGIN_FAILURES_PER_USER: '10',
  GITFLEET_LOGIN_FAILURES_PER_IP: '50',
  GITFLEET_LOGIN_FAILURE_WINDOW_SECONDS: '900',
  GITFLEET_BROWSE_THREADS: '0',
  GITFLEET_BROWSE_QUEUE: '64',
  GITFLEET_DIFF_TIME_MS: '3000',
  GITFLEET_DIFF_MAX_LINES: '20000',
  GITFLEET_DIFF_MAX_EDIT_LENGTH: '2000',
  GITFLEET_DIFF_CACHE_BYTES: '64MiB',
  GITFLEET_RENDER_MAX_BYTES: '512KiB',
  GITFLEET_RENDER_TIMEOUT_MS: '5000',
  GITFLEET_DISPLAY_MAX_BYTES: '1MiB',
  GITFLEET_IN_MEMORY_READ_BYTES: '256MiB',
  GITFLEET_TREE_MAX_ENTRIES: '1000',
  // Empty: every core but one, at least one and at most two. A check is one thread (argon2 with
  // one lane) of libuv's pool of 4: the event loop keeps a core, file reads and gzip two threads.
  GITFLEET_PASSWORD_CHECKS: '',
  GITFLEET_PASSWORD_CHECK_QUEUE: '32',
  GITFLEET_PASSWORD_CHECKS_PER_IP: '8',
  GITFLEET_TRUST_PROXY: '',
  GITFLEET_METRICS: '1',
  // Empty: /metrics answers local clients only.
  GITFLEET_METRICS_TOKEN: '',
  GITFLEET_MAINTENANCE: '1',
  GITFLEET_MAINTENANCE_CONCURRENCY: '1',
  GITFLEET_MAINTENANCE_SWEEP_SECONDS: '3600',
  // A full repack of git's history takes minutes here; four hours is a run that is stuck.
  GITFLEET_MAINTENANCE_MAX_SECONDS: '14400',
  // Six hours: longer than the longest request (GITFLEET_REQUEST_TIMEOUT_MS) with room to spare.
  GITFLEET_PACK_GRACE_SECONDS: '21600',
  // On: git uses packfile URIs only when its user opts in (fetch.uriProtocols), and then a
  // clone costs the server next to nothing. `server` when clients cannot reach the object store.
  GITFLEET_PACKFILE_URIS: '1',
  // The URL only has to be valid when the download starts, right after the inline pack.
  GITFLEET_PACKFILE_URI_EXPIRY_SECONDS: '300',
  // Empty: generated once and kept in the KV store, shared by every server.
  GITFLEET_PACKFILE_URI_SECRET: '',
  // One store write per push instead of two; 0 while a server older than the joined layout shares the stores.
  GITFLEET_JOINED_PACKS: '1',
  // Every push reads them all (one KV read), and a page of the API is cut from them.
  GITFLEET_LFS_MAX_LOCKS: '10000',
  GITFLEET_LFS_LOCK_PATH_BYTES: '1024',
  // E.g. 1,000 new commits against 100 locks: about a second of paced work (10,000 against 10: ~7 s).
  GITFLEET_LFS_LOCK_CHECKS_PER_PUSH: '100000',
  // direct: presigned object-store URLs where the blob store makes them (S3); server: through the server.
  GITFLEET_LFS_TRANSFER: 'direct',
  // S3 takes at most 5 GiB in one PUT, and git-lfs's basic transfer makes one.
  GITFLEET_LFS_MAX_OBJECT_BYTES: '5GiB',
  // git-lfs asks for 100 objects per batch (lfs.transfer.batchSize).
  GITFLEET_LFS_MAX_BATCH_OBJECTS: '1000',
  GITFLEET_LFS_MAX_BATCH_BYTES: '1MiB',
  // git-lfs asks again for an action that expired before its transfer started.
  GITFLEET_LFS_ACTION_EXPIRY_SECONDS: '3600',
  // A direct upload that breaks starts over; from this size the client's resumable transfer, if offered, is worth the server's bandwidth.
  GITFLEET_LFS_RESUMABLE_MIN_BYTES: '256MiB',
  // One S3 PutObject per piece (the S3 store's part size): a piece sits in memory while it goes up.
  GITFLEET_LFS_RESUMABLE_PIECE_BYTES: '8MiB',
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
  const bytes = (name: EnvName, min: number, fallback?: number): number => {
    const raw = read(name);
    if (raw === '' && fallback !== undefined) return fallback;
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

  const flag = (name: EnvName): boolean => {
    const raw = read(name).toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
    if (!['0', 'false', 'no', 'off'].includes(raw))
      problems.push(`${name}=${JSON.stringify(raw)}: expected 1 or 0 (true/false, yes/no, on/off)`);
    return false;
  };

  const reader: EnvReader = {
    read: (name) => {
      if (!(name in ENVIRONMENT)) throw new Error(`configuration: ${name} is not in ENVIRONMENT`);
      return read(name as EnvName);
    },
    problem: (text) => problems.push(text),
    integer: (name, min, max) => integer(name as EnvName, min, max),
  };

  const host = read('HOST');
  if (/[\s/]/.test(host)) problems.push(`HOST=${JSON.stringify(host)}: expected a host name or IP address`);

  const publicUrl = read('GITFLEET_PUBLIC_URL').replace(/\/+$/, '');
  if (publicUrl !== '' && !isHttpUrl(publicUrl)) {
    problems.push(`GITFLEET_PUBLIC_URL=${JSON.stringify(publicUrl)}: expected an http(s) URL`);
  }

  const dataDir = path.resolve(cwd, read('GITFLEET_DATA_DIR'));
  const blobs = readBlobsConfig(reader, oneOf('GITFLEET_BLOB_BACKEND', BLOB_BACKENDS), dataDir);
  const kv = readKVConfig(reader, oneOf('GITFLEET_KV_BACKEND', KV_BACKENDS), dataDir);

  const config: ServerConfig = {
    host,
    port: integer('PORT', 0, 65535),
    dataDir,
    publicUrl: publicUrl === '' ? undefined : publicUrl,
    blobs,
    kv,
    limits: {
      maxPackBytes: bytes('GITFLEET_MAX_PACK_BYTES', 1),
      maxObjectSize: bytes('GITFLEET_MAX_OBJECT_BYTES', 1),
      maxRequestBytes: bytes('GITFLEET_MAX_REQUEST_BYTES', 1),
      maxRequestPackets: integer('GITFLEET_MAX_REQUEST_PACKETS', 1, 2 ** 31 - 1),
      maxPushCommandBytes: bytes('GITFLEET_MAX_PUSH_COMMAND_BYTES', 1),
      maxPushCommands: integer('GITFLEET_MAX_PUSH_COMMANDS', 1, 2 ** 31 - 1),
      maxPushOptions: integer('GITFLEET_MAX_PUSH_OPTIONS', 0, 2 ** 31 - 1),
      // The ng line carrying the name must still fit in one pkt-line.
      maxRefNameBytes: integer('GITFLEET_MAX_REF_NAME_BYTES', 16, 65000),
      maxPushRefLevels: integer('GITFLEET_MAX_PUSH_REF_LEVELS', 1, 2 ** 31 - 1),
    },
    packIndexing: {
      limits: {
        maxInflatedBytes: bytes('GITFLEET_PUSH_MAX_INFLATED_BYTES', 1),
        maxExpansionRatio: integer('GITFLEET_PUSH_MAX_EXPANSION_RATIO', 1, 1_000_000),
        expansionAllowance: bytes('GITFLEET_PUSH_EXPANSION_ALLOWANCE', 0),
        maxDeltaDepth: integer('GITFLEET_PUSH_MAX_DELTA_DEPTH', 1, GIT_MAX_DELTA_DEPTH),
      },
      threads: read('GITFLEET_INDEX_THREADS') === '' ? undefined : integer('GITFLEET_INDEX_THREADS', 1, 1024),
      maxQueue: read('GITFLEET_INDEX_QUEUE') === '' ? undefined : integer('GITFLEET_INDEX_QUEUE', 0, 100_000),
    },
    cache: {
      maxBytes: bytes('GITFLEET_CACHE_BYTES', 0),
      blockSize: bytes('GITFLEET_CACHE_BLOCK_BYTES', 512, usesRemoteBlobs(blobs) ? MIB : 64 * KIB),
      indexBytes: bytes('GITFLEET_INDEX_CACHE_BYTES', 0),
      deltaBaseBytes: bytes('GITFLEET_DELTA_CACHE_BYTES', 0),
      reencodedBytes: bytes('GITFLEET_REENCODED_CACHE_BYTES', 0),
      bitmapBytes: bytes('GITFLEET_BITMAP_CACHE_BYTES', 0),
      commitGraphBytes: bytes('GITFLEET_COMMIT_GRAPH_CACHE_BYTES', 0),
      refListingBytes: bytes('GITFLEET_REF_LISTING_CACHE_BYTES', 0),
    },
    timeouts: {
      headersMs: integer('GITFLEET_HEADERS_TIMEOUT_MS', 1, 2 ** 31 - 1),
      requestMs: integer('GITFLEET_REQUEST_TIMEOUT_MS', 0, 2 ** 31 - 1),
      idleMs: integer('GITFLEET_IDLE_TIMEOUT_MS', 0, 2 ** 31 - 1),
      sendStallMs: integer('GITFLEET_SEND_STALL_MS', 1000, 2 ** 31 - 1),
    },
    workers: read('GITFLEET_WORKERS') === '' ? defaultWorkers(machineCores()) : integer('GITFLEET_WORKERS', 1, 256),
    connections: {
      maxConnections: integer('GITFLEET_MAX_CONNECTIONS', 1, 1_000_000),
      maxConnectionsPerClient: integer('GITFLEET_MAX_CONNECTIONS_PER_CLIENT', 0, 1_000_000),
      windowMs: integer('GITFLEET_BODY_WINDOW_MS', 100, 2 ** 31 - 1),
      minBytesPerSecond: integer('GITFLEET_BODY_MIN_BYTES_PER_SECOND', 0, 2 ** 31 - 1),
    },
    pushes: {
      maxPushes: integer('GITFLEET_MAX_PUSHES', 1, 100_000),
      maxPushesPerAccount: integer('GITFLEET_MAX_PUSHES_PER_ACCOUNT', 1, 100_000),
      waitMs: integer('GITFLEET_PUSH_WAIT_MS', 0, 600_000),
    },
    logLevel: oneOf('LOG_LEVEL', LOG_LEVELS),
    hooks: {
      timeoutMs: integer('GITFLEET_HOOK_TIMEOUT_MS', 1, 2 ** 31 - 1),
      maxAttempts: integer('GITFLEET_HOOK_MAX_ATTEMPTS', 1, 1000),
      backoffMs: integer('GITFLEET_HOOK_BACKOFF_MS', 1, 2 ** 31 - 1),
      maxBackoffMs: integer('GITFLEET_HOOK_MAX_BACKOFF_MS', 1, 2 ** 31 - 1),
      disableAfter: integer('GITFLEET_HOOK_DISABLE_AFTER', 0, 1_000_000),
      concurrency: integer('GITFLEET_HOOK_CONCURRENCY', 1, 1000),
      pollMs: integer('GITFLEET_HOOK_POLL_MS', 10, 2 ** 31 - 1),
      leaseMs: integer('GITFLEET_HOOK_LEASE_MS', 300, 2 ** 31 - 1),
      keepAttempts: integer('GITFLEET_HOOK_LOG_KEEP', 10, 100_000),
      keepDeadLetters: integer('GITFLEET_HOOK_DEAD_LETTERS_KEEP', 1, MAX_DEAD_LETTERS_KEPT),
      recoveryDelayMs: integer('GITFLEET_HOOK_RECOVERY_DELAY_MS', 0, 2 ** 31 - 1),
      minFenceAgeMs: testMinFenceAge(env.GITFLEET_TEST_HOOK_MIN_FENCE_AGE_MS, problems),
      allowedNetworks: allowedNetworks(read('GITFLEET_HOOK_ALLOWED_NETWORKS'), problems),
      branchFilter: {
        maxLength: integer('GITFLEET_HOOK_BRANCH_FILTER_MAX_LENGTH', 1, 4096),
        maxWildcards: integer('GITFLEET_HOOK_BRANCH_FILTER_MAX_WILDCARDS', 0, 256),
      },
      maxHooksPerTarget: integer('GITFLEET_HOOKS_PER_TARGET', 1, 10_000),
      branchFilterStepsPerPush: integer('GITFLEET_HOOK_BRANCH_FILTER_STEPS_PER_PUSH', 1000, 2 ** 40),
      statusesPerCommit: integer('GITFLEET_STATUSES_PER_COMMIT', 1, 1_000_000),
      payload: {
        maxFilesPerCommit: integer('GITFLEET_HOOK_PAYLOAD_FILES_PER_COMMIT', 0, 1_000_000),
        maxTreeEntries: integer('GITFLEET_HOOK_PAYLOAD_TREE_ENTRIES', 0, 2 ** 31 - 1),
        maxPathBytes: bytes('GITFLEET_HOOK_PAYLOAD_PATH_BYTES', 0),
      },
    },
    pushCreate: flag('GITFLEET_PUSH_CREATE'),
    bootstrapAdmin: readBootstrapAdmin(reader),
    sessionTtlMs: integer('GITFLEET_SESSION_TTL_HOURS', 1, 24 * 366) * 3_600_000,
    loginThrottle: {
      perUserAndIp: integer('GITFLEET_LOGIN_FAILURES_PER_USER', 1, 1_000_000),
      perIp: integer('GITFLEET_LOGIN_FAILURES_PER_IP', 1, 1_000_000),
      windowSeconds: integer('GITFLEET_LOGIN_FAILURE_WINDOW_SECONDS', 1, 7 * 24 * 3600),
    },
    browse: {
      threads: integer('GITFLEET_BROWSE_THREADS', 0, 1024),
      queue: integer('GITFLEET_BROWSE_QUEUE', 0, 1_000_000),
      diffTimeMs: integer('GITFLEET_DIFF_TIME_MS', 1, 600_000),
      diffMaxLines: integer('GITFLEET_DIFF_MAX_LINES', 1, 10_000_000),
      diffMaxEditLength: integer('GITFLEET_DIFF_MAX_EDIT_LENGTH', 1, 10_000_000),
      diffCacheBytes: bytes('GITFLEET_DIFF_CACHE_BYTES', 0),
      renderMaxBytes: bytes('GITFLEET_RENDER_MAX_BYTES', 0),
      renderTimeoutMs: integer('GITFLEET_RENDER_TIMEOUT_MS', 1, 600_000),
      displayMaxBytes: bytes('GITFLEET_DISPLAY_MAX_BYTES', 0),
      inMemoryReadBytes: bytes('GITFLEET_IN_MEMORY_READ_BYTES', 0),
      treeMaxEntries: integer('GITFLEET_TREE_MAX_ENTRIES', 1, 10_000_000),
    },
    passwordChecks: {
      concurrent:
        read('GITFLEET_PASSWORD_CHECKS') === ''
          ? Math.min(2, Math.max(1, availableParallelism() - 1))
          : integer('GITFLEET_PASSWORD_CHECKS', 1, 1024),
      queue: integer('GITFLEET_PASSWORD_CHECK_QUEUE', 0, 1_000_000),
      perIp: integer('GITFLEET_PASSWORD_CHECKS_PER_IP', 1, 1_000_000),
    },
    trustProxy: readTrustProxy(reader),
    metrics: readMetricsConfig(reader, flag('GITFLEET_METRICS')),
    maintenance: {
      enabled: flag('GITFLEET_MAINTENANCE'),
      concurrency: integer('GITFLEET_MAINTENANCE_CONCURRENCY', 1, 64),
      sweepIntervalMs: integer('GITFLEET_MAINTENANCE_SWEEP_SECONDS', 0, MAX_TIMER_SECONDS) * 1000,
      maxRunMs: integer('GITFLEET_MAINTENANCE_MAX_SECONDS', 1, MAX_TIMER_SECONDS) * 1000,
      graceSeconds: integer('GITFLEET_PACK_GRACE_SECONDS', 1, 365 * 24 * 3600),
    },
    packfileUris: readPackfileUris(reader),
    joinedPacks: flag('GITFLEET_JOINED_PACKS'),
    lfsLocks: {
      maxLocks: integer('GITFLEET_LFS_MAX_LOCKS', 1, 100_000),
      maxPathBytes: integer('GITFLEET_LFS_LOCK_PATH_BYTES', 1, 4096),
      maxChecksPerPush: integer('GITFLEET_LFS_LOCK_CHECKS_PER_PUSH', 1, 100_000_000),
    },
    lfs: {
      transfer: oneOf('GITFLEET_LFS_TRANSFER', ['direct', 'server'] as const),
      maxObjectBytes: bytes('GITFLEET_LFS_MAX_OBJECT_BYTES', 1),
      maxBatchObjects: integer('GITFLEET_LFS_MAX_BATCH_OBJECTS', 1, 100_000),
      maxBatchBytes: bytes('GITFLEET_LFS_MAX_BATCH_BYTES', 1024),
      // Seven days is the longest an S3 presigned URL may live.
      actionExpirySeconds: integer('GITFLEET_LFS_ACTION_EXPIRY_SECONDS', 1, 7 * 24 * 3600),
      resumableMinBytes: bytes('GITFLEET_LFS_RESUMABLE_MIN_BYTES', 0),
      // S3 concatenates pieces as parts of a multipart upload: at least 5 MiB each.
      resumablePieceBytes: bytes('GITFLEET_LFS_RESUMABLE_PIECE_BYTES', MIN_CONCATENATED_PART_BYTES),
    },
  };
  if (config.lfs.resumablePieceBytes > MAX_CONCATENATED_PART_BYTES) {
    problems.push(`GITFLEET_LFS_RESUMABLE_PIECE_BYTES: at most ${MAX_CONCATENATED_PART_BYTES} bytes, S3's largest part`);
  }
  const pieces = Math.ceil(config.lfs.maxObjectBytes / config.lfs.resumablePieceBytes);
  if (pieces > MAX_CONCATENATED_PARTS) {
    problems.push(
      `GITFLEET_LFS_RESUMABLE_PIECE_BYTES: the largest object (GITFLEET_LFS_MAX_OBJECT_BYTES) would take ${pieces} pieces; S3 concatenates at most ${MAX_CONCATENATED_PARTS}`,
    );
  }
  problems.push(...graceProblems(config.maintenance.graceSeconds, config.timeouts.requestMs));
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** The longest delay node's timers take (2^31 - 1 ms, about 24.8 days); a longer one fires at once. */
const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/**
 * A replaced pack is deleted a grace period after it was retired: by then every process must have
 * re-read the registry (its view is at most DEFAULT_REGISTRY_MAX_AGE_MS old) and every request that
 * started with the old view must be over.
 */
function graceProblems(graceSeconds: number, requestMs: number): string[] {
  const viewAgeSeconds = DEFAULT_REGISTRY_MAX_AGE_MS / 1000;
  const boundSeconds = viewAgeSeconds + requestMs / 1000;
  if (graceSeconds > boundSeconds) return [];
  return [
    `GITFLEET_PACK_GRACE_SECONDS=${graceSeconds} must exceed ${boundSeconds} s: the ${viewAgeSeconds} s a server may keep an old view ` +
      `of the pack registry${requestMs > 0 ? ` plus GITFLEET_REQUEST_TIMEOUT_MS (${requestMs} ms), the longest request` : ''}`,
  ];
}

function allowedNetworks(raw: string, problems: string[]): string[] {
  const entries = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  try {
    validateAllowedNetworks(entries);
  } catch (error) {
    if (error instanceof InvalidAllowedNetwork) problems.push(`GITFLEET_HOOK_ALLOWED_NETWORKS: ${error.message}`);
    else throw error;
  }
  return entries;
}

const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** "" → trust no proxy; "2" → two hops; "10.0.0.0/8, ::1, loopback" → those addresses. */
function readTrustProxy(env: EnvReader): false | number | string[] {
  const raw = env.read('GITFLEET_TRUST_PROXY');
  if (raw === '') return false;
  if (/^\d+$/.test(raw)) return env.integer('GITFLEET_TRUST_PROXY', 1, 100);
  const entries = raw.split(',').map((entry) => entry.trim());
  const bad = entries.filter((entry) => !PROXY_RANGE_NAMES.includes(entry) && !isAddressOrCidr(entry));
  if (bad.length > 0) {
    env.problem(
      `GITFLEET_TRUST_PROXY=${JSON.stringify(raw)}: ${bad.map((entry) => JSON.stringify(entry)).join(', ')}: expected a hop count, or IP addresses, CIDR ranges and ${PROXY_RANGE_NAMES.join('/')}`,
    );
  }
  return entries;
}

function readMetricsConfig(env: EnvReader, enabled: boolean): MetricsConfig {
  const token = env.read('GITFLEET_METRICS_TOKEN');
  if (token === '') return { enabled };
  // The value itself is a secret: never echoed.
  if (token.length < MIN_METRICS_TOKEN_LENGTH || /\s/.test(token)) {
    env.problem(`GITFLEET_METRICS_TOKEN: expected at least ${MIN_METRICS_TOKEN_LENGTH} characters without spaces`);
  }
  return { enabled, token };
}

function isAddressOrCidr(text: string): boolean {
  const [address, prefix, ...rest] = text.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

function readBootstrapAdmin(env: EnvReader): BootstrapAdminConfig | undefined {
  const name = env.read('GITFLEET_ADMIN_USER');
  const password = env.read('GITFLEET_ADMIN_PASSWORD');
  const email = env.read('GITFLEET_ADMIN_EMAIL');
  const token = env.read('GITFLEET_ADMIN_TOKEN');
  if (name === '') {
    for (const [variable, value] of [
      ['GITFLEET_ADMIN_PASSWORD', password],
      ['GITFLEET_ADMIN_EMAIL', email],
      ['GITFLEET_ADMIN_TOKEN', token],
    ]) {
      if (value !== '') env.problem(`${variable} is set but GITFLEET_ADMIN_USER is not: name the administrator it belongs to`);
    }
    return undefined;
  }
  if (password === '') env.problem('GITFLEET_ADMIN_USER is set but GITFLEET_ADMIN_PASSWORD is not: the administrator needs a password');
  if (token !== '' && (token.length < MIN_ADMIN_TOKEN_LENGTH || /\s/.test(token))) {
    // The value itself is a secret: never echoed.
    env.problem(`GITFLEET_ADMIN_TOKEN: expected at least ${MIN_ADMIN_TOKEN_LENGTH} characters without spaces`);
  }
  return { name, password, email: email === '' ? `${name}@localhost` : email, ...(token === '' ? {} : { token }) };
}

function readPackfileUris(env: EnvReader): PackfileUrisConfig {
  const raw = env.read('GITFLEET_PACKFILE_URIS').toLowerCase();
  const mode = ['1', 'true', 'yes', 'on', 'direct'].includes(raw)
    ? 'direct'
    : ['0', 'false', 'no', 'off'].includes(raw)
      ? 'off'
      : raw === 'server'
        ? 'server'
        : undefined;
  if (mode === undefined) env.problem(`GITFLEET_PACKFILE_URIS=${JSON.stringify(raw)}: expected 1 (direct), server or 0`);
  const secret = env.read('GITFLEET_PACKFILE_URI_SECRET');
  if (secret !== '' && (secret.length < MIN_PACKFILE_URI_SECRET_LENGTH || /\s/.test(secret))) {
    // The value itself is a secret: never echoed.
    env.problem(`GITFLEET_PACKFILE_URI_SECRET: expected at least ${MIN_PACKFILE_URI_SECRET_LENGTH} characters without spaces`);
  }
  return {
    mode: mode ?? 'off',
    // Seven days is the longest an S3 presigned URL may live.
    expirySeconds: env.integer('GITFLEET_PACKFILE_URI_EXPIRY_SECONDS', 1, 7 * 24 * 3600),
    ...(secret === '' ? {} : { secret }),
  };
}

function readBlobsConfig(env: EnvReader, backend: (typeof BLOB_BACKENDS)[number], dataDir: string): BlobsConfig {
  switch (backend) {
    case 'fs':
      return { backend, store: { type: 'fs', path: path.join(dataDir, 'objects') } };
    case 's3':
      return { backend, store: { type: 's3', s3: readS3Settings(env) } };
    case 'placement': {
      const stores = readPlacementStores(env, dataDir);
      const replicas = env.integer('GITFLEET_PLACEMENT_REPLICAS', 1, Math.max(1, stores.length));
      return {
        backend,
        stores,
        replicas,
        readTimeoutMs: env.integer('GITFLEET_PLACEMENT_READ_TIMEOUT_MS', 1, 2 ** 31 - 1),
        writeTimeoutMs: env.integer('GITFLEET_PLACEMENT_WRITE_TIMEOUT_MS', 1, 2 ** 31 - 1),
        repair: {
          intervalMs: env.integer('GITFLEET_PLACEMENT_REPAIR_SECONDS', 0, MAX_TIMER_SECONDS) * 1000,
          cleanup: env.integer('GITFLEET_PLACEMENT_CLEANUP', 0, 1) === 1,
          concurrency: env.integer('GITFLEET_PLACEMENT_REPAIR_CONCURRENCY', 1, 64),
        },
      };
    }
  }
}

function readKVConfig(env: EnvReader, backend: (typeof KV_BACKENDS)[number], dataDir: string): KVConfig {
  switch (backend) {
    case 'sqlite':
      return { backend, path: path.join(dataDir, 'kv.sqlite') };
    case 'redis': {
      const namespace = env.read('GITFLEET_REDIS_NAMESPACE');
      if (!/^[A-Za-z0-9._-]{1,64}$/.test(namespace))
        env.problem(`GITFLEET_REDIS_NAMESPACE=${JSON.stringify(namespace)}: expected 1-64 of [A-Za-z0-9._-]`);
      const password = env.read('GITFLEET_REDIS_PASSWORD');
      return {
        backend,
        target: readRedisTarget(env),
        password: password === '' ? undefined : password,
        namespace,
        waitReplicas: env.integer('GITFLEET_REDIS_WAIT_REPLICAS', 0, 100),
        waitTimeoutMs: env.integer('GITFLEET_REDIS_WAIT_TIMEOUT_MS', 1, 2 ** 31 - 1),
      };
    }
  }
}

/**
 * Dead letters one hook may keep: adding one and listing a page read the hook's whole order list
 * (a key and a guid per letter), and deleting the hook removes them all.
 */
const MAX_DEAD_LETTERS_KEPT = 10_000;

/**
 * GITFLEET_TEST_HOOK_MIN_FENCE_AGE_MS (tests of the fence only): lowers the fence age, never below
 * a few seconds, so that a test's live pushes still have far longer than they take on a loaded machine.
 */
function testMinFenceAge(raw: string | undefined, problems: string[]): number {
  if (raw === undefined || raw.trim() === '') return MIN_FENCE_AGE_MS;
  const value = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!(value >= MIN_TEST_FENCE_AGE_MS && value <= MIN_FENCE_AGE_MS)) {
    problems.push(
      `GITFLEET_TEST_HOOK_MIN_FENCE_AGE_MS=${JSON.stringify(raw)}: expected an integer from ${MIN_TEST_FENCE_AGE_MS} to ${MIN_FENCE_AGE_MS}`,
    );
    return MIN_FENCE_AGE_MS;
  }
  return value;
}

const MIN_TEST_FENCE_AGE_MS = 3_000;

const UNITS: Record<string, number> = { '': 1, b: 1, k: KIB, kb: KIB, kib: KIB, m: MIB, mb: MIB, mib: MIB, g: GIB, gb: GIB, gib: GIB };

/** "65536", "64k", "64KiB", "2GiB" → bytes (binary multiples throughout, as git's config does). */
export function parseByteSize(text: string): number | undefined {
  const match = /^(\d+)\s*([a-z]*)$/i.exec(text.trim());
  if (!match) return undefined;
  const unit = UNITS[match[2].toLowerCase()];
  return unit === undefined ? undefined : Number(match[1]) * unit;
}
