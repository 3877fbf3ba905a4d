import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { MIN_FENCE_AGE_MS } from '@gitfleet/events';
import { DEFAULT_PACK_LIMITS } from '@gitfleet/protocol';
import { ConfigError, loadConfig, parseByteSize } from '../src/config.js';

test('defaults follow the start-up contract', () => {
  const config = loadConfig({}, '/srv/gitfleet');
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.port, 8080);
  assert.equal(config.dataDir, path.resolve('/srv/gitfleet/data'));
  assert.equal(config.publicUrl, undefined);
  assert.deepEqual(config.blobs, { backend: 'fs', store: { type: 'fs', path: path.resolve('/srv/gitfleet/data/objects') } });
  assert.deepEqual(config.kv, { backend: 'sqlite', path: path.resolve('/srv/gitfleet/data/kv.sqlite') });
  assert.deepEqual(config.cache, {
    maxBytes: 128 * 1024 ** 2,
    blockSize: 64 * 1024,
    indexBytes: 256 * 1024 ** 2,
    deltaBaseBytes: 64 * 1024 ** 2,
    reencodedBytes: 64 * 1024 ** 2,
    bitmapBytes: 256 * 1024 ** 2,
    commitGraphBytes: 64 * 1024 ** 2,
    refListingBytes: 32 * 1024 ** 2,
  });
  assert.deepEqual(config.limits, {
    maxPackBytes: 2 * 1024 ** 3,
    maxObjectSize: 512 * 1024 ** 2,
    maxRequestBytes: 10 * 1024 ** 2,
    maxRequestPackets: 262144,
    maxPushCommandBytes: 4 * 1024 ** 2,
    maxPushCommands: 10000,
    maxPushOptions: 100,
    maxRefNameBytes: 1024,
    maxPushRefLevels: 40000,
  });
  assert.equal(config.logLevel, 'info');
});

test('reads every setting from the environment', () => {
  const config = loadConfig(
    {
      HOST: '0.0.0.0',
      PORT: '0',
      GITFLEET_DATA_DIR: '/var/lib/gitfleet',
      GITFLEET_PUBLIC_URL: 'https://git.example.com/',
      GITFLEET_MAX_PACK_BYTES: '1g',
      GITFLEET_MAX_OBJECT_BYTES: '100MiB',
      GITFLEET_MAX_REQUEST_BYTES: '65536',
      GITFLEET_MAX_REQUEST_PACKETS: '1000',
      GITFLEET_MAX_PUSH_COMMAND_BYTES: '64KiB',
      GITFLEET_MAX_PUSH_COMMANDS: '50',
      GITFLEET_MAX_PUSH_OPTIONS: '5',
      GITFLEET_MAX_REF_NAME_BYTES: '255',
      GITFLEET_MAX_PUSH_REF_LEVELS: '200',
      GITFLEET_CACHE_BYTES: '0',
      LOG_LEVEL: 'silent',
    },
    '/elsewhere',
  );
  assert.equal(config.host, '0.0.0.0');
  assert.equal(config.port, 0);
  assert.equal(config.dataDir, '/var/lib/gitfleet');
  assert.equal(config.publicUrl, 'https://git.example.com');
  assert.deepEqual(config.limits, {
    maxPackBytes: 1024 ** 3,
    maxObjectSize: 100 * 1024 ** 2,
    maxRequestBytes: 65536,
    maxRequestPackets: 1000,
    maxPushCommandBytes: 64 * 1024,
    maxPushCommands: 50,
    maxPushOptions: 5,
    maxRefNameBytes: 255,
    maxPushRefLevels: 200,
  });
  assert.equal(config.cache.maxBytes, 0);
  assert.equal(config.logLevel, 'silent');
});

test('reports every invalid setting at once', () => {
  assert.throws(
    () =>
      loadConfig({
        PORT: '70000',
        GITFLEET_MAX_PACK_BYTES: 'lots',
        LOG_LEVEL: 'loud',
        GITFLEET_KV_BACKEND: 'mongo',
        GITFLEET_PUBLIC_URL: 'ftp://x',
      }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      const names = error.problems.map((problem) => problem.split('=')[0]);
      assert.deepEqual(names.sort(), ['GITFLEET_KV_BACKEND', 'GITFLEET_MAX_PACK_BYTES', 'GITFLEET_PUBLIC_URL', 'LOG_LEVEL', 'PORT']);
      return true;
    },
  );
});

test('byte sizes take binary unit suffixes', () => {
  assert.equal(parseByteSize('512'), 512);
  assert.equal(parseByteSize('64k'), 65536);
  assert.equal(parseByteSize('64 KiB'), 65536);
  assert.equal(parseByteSize('2GiB'), 2 * 1024 ** 3);
  assert.equal(parseByteSize('1.5g'), undefined);
  assert.equal(parseByteSize('-1'), undefined);
  assert.equal(parseByteSize('12 parsecs'), undefined);
});

const S3_ENV = {
  GITFLEET_BLOB_BACKEND: 's3',
  GITFLEET_S3_ENDPOINT: 'http://127.0.0.1:7480',
  GITFLEET_S3_BUCKET: 'packs',
  GITFLEET_S3_PREFIX: 'gitfleet/',
  GITFLEET_S3_ACCESS_KEY_ID: 'AKID',
  GITFLEET_S3_SECRET_ACCESS_KEY: 'very-secret',
};

test('the s3 backend takes its bucket, endpoint and credentials, and 1 MiB cache blocks', () => {
  const config = loadConfig(S3_ENV, '/srv');
  assert.deepEqual(config.blobs, {
    backend: 's3',
    store: {
      type: 's3',
      s3: {
        endpoint: 'http://127.0.0.1:7480',
        region: 'us-east-1',
        bucket: 'packs',
        prefix: 'gitfleet/',
        credentials: { accessKeyId: 'AKID', secretAccessKey: 'very-secret' },
        idleTimeoutMs: 120_000,
        maxAttempts: 5,
      },
    },
  });
  assert.equal(config.cache.blockSize, 1024 * 1024);
  const bounded = loadConfig({ ...S3_ENV, GITFLEET_S3_IDLE_TIMEOUT_MS: '20000', GITFLEET_S3_MAX_ATTEMPTS: '2' });
  assert.ok(bounded.blobs.backend === 's3' && bounded.blobs.store.type === 's3');
  assert.equal(bounded.blobs.store.s3.idleTimeoutMs, 20_000);
  assert.equal(bounded.blobs.store.s3.maxAttempts, 2);
  assert.throws(() => loadConfig({ ...S3_ENV, GITFLEET_S3_MAX_ATTEMPTS: '0' }), /GITFLEET_S3_MAX_ATTEMPTS/);
  assert.equal(loadConfig({ ...S3_ENV, GITFLEET_CACHE_BLOCK_BYTES: '256KiB' }).cache.blockSize, 256 * 1024);
});

test('the s3 backend reports what is missing without echoing secrets', () => {
  assert.throws(
    () => loadConfig({ GITFLEET_BLOB_BACKEND: 's3', GITFLEET_S3_ENDPOINT: 'not a url', GITFLEET_S3_SECRET_ACCESS_KEY: 'very-secret' }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.problems.length, 3, error.message);
      assert.match(error.message, /GITFLEET_S3_BUCKET: required/);
      assert.match(error.message, /GITFLEET_S3_ENDPOINT="not a url"/);
      assert.match(error.message, /set both, or neither/);
      assert.doesNotMatch(error.message, /very-secret/);
      return true;
    },
  );
});

test('placement takes named fs and s3 stores, the s3 ones defaulting to GITFLEET_S3_*', () => {
  const stores = [
    { name: 'local', type: 'fs', path: 'stores/local' },
    { name: 'abs', type: 'fs', path: '/mnt/disk2/packs' },
    { name: 'remote', type: 's3', bucket: 'packs-eu', region: 'eu-west-1' },
  ];
  const config = loadConfig(
    {
      ...S3_ENV,
      GITFLEET_BLOB_BACKEND: 'placement',
      GITFLEET_DATA_DIR: '/data',
      GITFLEET_PLACEMENT_STORES: JSON.stringify(stores),
      GITFLEET_PLACEMENT_REPLICAS: '3',
    },
    '/srv',
  );
  assert.deepEqual(config.blobs, {
    backend: 'placement',
    replicas: 3,
    readTimeoutMs: 2000,
    writeTimeoutMs: 600000,
    repair: { intervalMs: 86_400_000, cleanup: true, concurrency: 2 },
    stores: [
      { name: 'local', type: 'fs', path: '/data/stores/local' },
      { name: 'abs', type: 'fs', path: '/mnt/disk2/packs' },
      {
        name: 'remote',
        type: 's3',
        s3: {
          endpoint: 'http://127.0.0.1:7480',
          region: 'eu-west-1',
          bucket: 'packs-eu',
          prefix: 'gitfleet/',
          credentials: { accessKeyId: 'AKID', secretAccessKey: 'very-secret' },
          idleTimeoutMs: 120_000,
          maxAttempts: 5,
        },
      },
    ],
  });
  assert.equal(config.cache.blockSize, 1024 * 1024, 'a remote store among them');
  const local = loadConfig({ GITFLEET_BLOB_BACKEND: 'placement', GITFLEET_PLACEMENT_STORES: JSON.stringify(stores.slice(0, 2)) });
  assert.equal(local.cache.blockSize, 64 * 1024, 'only local stores');
  const repairOff = loadConfig({
    GITFLEET_BLOB_BACKEND: 'placement',
    GITFLEET_PLACEMENT_STORES: JSON.stringify(stores.slice(0, 2)),
    GITFLEET_PLACEMENT_REPAIR_SECONDS: '0',
    GITFLEET_PLACEMENT_CLEANUP: '0',
    GITFLEET_PLACEMENT_REPAIR_CONCURRENCY: '8',
  });
  assert.deepEqual(repairOff.blobs.backend === 'placement' && repairOff.blobs.repair, { intervalMs: 0, cleanup: false, concurrency: 8 });
});

test('placement refuses stores it cannot tell apart or place', () => {
  const problems = (stores: unknown, replicas = '2') => {
    try {
      loadConfig({
        GITFLEET_BLOB_BACKEND: 'placement',
        GITFLEET_PLACEMENT_STORES: typeof stores === 'string' ? stores : JSON.stringify(stores),
        GITFLEET_PLACEMENT_REPLICAS: replicas,
      });
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      return error.problems.join('\n');
    }
    assert.fail('expected a ConfigError');
  };
  assert.match(problems('[{"name":'), /not valid JSON/);
  assert.match(problems([]), /expected a JSON array/);
  assert.match(
    problems([
      { name: 'a', type: 'fs', path: 'x' },
      { name: 'a', type: 'fs', path: 'y' },
    ]),
    /"a" is used twice/,
  );
  assert.match(
    problems([
      { name: 'a', type: 'fs', path: 'x' },
      { name: 'b', type: 'fs', path: './x' },
    ]),
    /same place/,
  );
  assert.match(problems([{ name: 'a', type: 'nfs' }]), /"type" must be/);
  assert.match(problems([{ name: 'a b', type: 'fs', path: 'x' }]), /"name" must be/);
  assert.match(problems([{ name: 'a', type: 'fs', path: 'x', bucket: 'b' }]), /unknown field\(s\) bucket/);
  assert.match(
    problems(
      [
        { name: 'a', type: 'fs', path: 'x' },
        { name: 'b', type: 'fs', path: 'y' },
      ],
      '3',
    ),
    /GITFLEET_PLACEMENT_REPLICAS="3": expected an integer from 1 to 2/,
  );
});

test('redis takes one of a URL, a Cluster or Sentinels', () => {
  const redis = (env: Record<string, string>) => loadConfig({ GITFLEET_KV_BACKEND: 'redis', ...env }).kv;
  assert.deepEqual(redis({ GITFLEET_REDIS_URL: 'redis://127.0.0.1:6390' }), {
    backend: 'redis',
    target: { url: 'redis://127.0.0.1:6390' },
    password: undefined,
    namespace: 'gf',
    waitReplicas: 0,
    waitTimeoutMs: 1000,
  });
  assert.deepEqual(
    redis({
      GITFLEET_REDIS_CLUSTER: '10.0.0.1:7000, 10.0.0.2:7001,[::1]:7002',
      GITFLEET_REDIS_WAIT_REPLICAS: '1',
      GITFLEET_REDIS_PASSWORD: 'pw',
    }),
    {
      backend: 'redis',
      target: {
        cluster: [
          { host: '10.0.0.1', port: 7000 },
          { host: '10.0.0.2', port: 7001 },
          { host: '::1', port: 7002 },
        ],
      },
      password: 'pw',
      namespace: 'gf',
      waitReplicas: 1,
      waitTimeoutMs: 1000,
    },
  );
  assert.deepEqual(redis({ GITFLEET_REDIS_SENTINELS: 's1:26379,s2:26379', GITFLEET_REDIS_SENTINEL_MASTER: 'gitfleet' }), {
    backend: 'redis',
    target: {
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
      masterName: 'gitfleet',
    },
    password: undefined,
    namespace: 'gf',
    waitReplicas: 0,
    waitTimeoutMs: 1000,
  });
  assert.throws(() => redis({}), /exactly one of them/);
  assert.throws(() => redis({ GITFLEET_REDIS_URL: 'redis://h:1', GITFLEET_REDIS_CLUSTER: 'h:2' }), /exactly one of them/);
  assert.throws(() => redis({ GITFLEET_REDIS_CLUSTER: 'h:2,nope' }), /"nope" is not host:port/);
  assert.throws(() => redis({ GITFLEET_REDIS_SENTINELS: 'h:26379' }), /GITFLEET_REDIS_SENTINEL_MASTER: required/);
  assert.throws(() => redis({ GITFLEET_REDIS_URL: 'http://h:1' }), /GITFLEET_REDIS_URL: expected/);
});

test('accounts settings: push-to-create off, no bootstrap administrator, 14-day sessions, 10/50 failures per 15 minutes', () => {
  const config = loadConfig({}, '/srv');
  assert.equal(config.pushCreate, false);
  assert.equal(config.bootstrapAdmin, undefined);
  assert.equal(config.sessionTtlMs, 14 * 24 * 3600 * 1000);
  assert.deepEqual(config.loginThrottle, { perUserAndIp: 10, perIp: 50, windowSeconds: 900 });
});

test('reads push-to-create, the bootstrap administrator, the session lifetime and the login throttle', () => {
  const token = 't'.repeat(32);
  const config = loadConfig(
    {
      GITFLEET_PUSH_CREATE: 'true',
      GITFLEET_ADMIN_USER: 'root',
      GITFLEET_ADMIN_PASSWORD: 'correct horse',
      GITFLEET_ADMIN_EMAIL: 'root@example.com',
      GITFLEET_ADMIN_TOKEN: token,
      GITFLEET_SESSION_TTL_HOURS: '2',
      GITFLEET_LOGIN_FAILURES_PER_USER: '3',
      GITFLEET_LOGIN_FAILURES_PER_IP: '7',
      GITFLEET_LOGIN_FAILURE_WINDOW_SECONDS: '60',
    },
    '/srv',
  );
  assert.equal(config.pushCreate, true);
  assert.deepEqual(config.bootstrapAdmin, { name: 'root', password: 'correct horse', email: 'root@example.com', token });
  assert.equal(config.sessionTtlMs, 2 * 3600 * 1000);
  assert.deepEqual(config.loginThrottle, { perUserAndIp: 3, perIp: 7, windowSeconds: 60 });
  assert.equal(loadConfig({ GITFLEET_PUSH_CREATE: '0' }).pushCreate, false);
  assert.deepEqual(loadConfig({ GITFLEET_ADMIN_USER: 'root', GITFLEET_ADMIN_PASSWORD: 'pw-pw-pw-pw' }).bootstrapAdmin, {
    name: 'root',
    password: 'pw-pw-pw-pw',
    email: 'root@localhost',
  });
});

test('refuses an incomplete bootstrap administrator and a short token without echoing secrets', () => {
  const secret = 'short-secret';
  assert.throws(
    () =>
      loadConfig({
        GITFLEET_ADMIN_USER: 'root',
        GITFLEET_ADMIN_TOKEN: secret,
        GITFLEET_PUSH_CREATE: 'maybe',
        GITFLEET_SESSION_TTL_HOURS: '0',
      }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      const names = error.problems.map((problem) => problem.split(/[= ]/)[0]);
      assert.deepEqual(names.sort(), [
        'GITFLEET_ADMIN_TOKEN:',
        'GITFLEET_ADMIN_USER',
        'GITFLEET_PUSH_CREATE',
        'GITFLEET_SESSION_TTL_HOURS',
      ]);
      assert.ok(!error.message.includes(secret), error.message);
      return true;
    },
  );
  assert.throws(
    () => loadConfig({ GITFLEET_ADMIN_PASSWORD: 'orphan-password' }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /GITFLEET_ADMIN_PASSWORD is set but GITFLEET_ADMIN_USER is not/);
      assert.ok(!error.message.includes('orphan-password'));
      return true;
    },
  );
});

test('pushed packs: the limits default to the protocol defaults, and each is read from the environment', () => {
  assert.deepEqual(loadConfig({}).packIndexing, { limits: DEFAULT_PACK_LIMITS, threads: undefined, maxQueue: undefined });
  const config = loadConfig({
    GITFLEET_PUSH_MAX_INFLATED_BYTES: '1GiB',
    GITFLEET_PUSH_MAX_EXPANSION_RATIO: '50',
    GITFLEET_PUSH_EXPANSION_ALLOWANCE: '0',
    GITFLEET_PUSH_MAX_DELTA_DEPTH: '50',
    GITFLEET_INDEX_THREADS: '3',
    GITFLEET_INDEX_QUEUE: '0',
  });
  assert.deepEqual(config.packIndexing, {
    limits: { maxInflatedBytes: 1024 ** 3, maxExpansionRatio: 50, expansionAllowance: 0, maxDeltaDepth: 50 },
    threads: 3,
    maxQueue: 0,
  });
  assert.throws(
    () => loadConfig({ GITFLEET_PUSH_MAX_DELTA_DEPTH: '0', GITFLEET_INDEX_THREADS: 'many' }),
    (error: ConfigError) => error.problems.length === 2,
  );
});

test('password checks in flight: every core but one (at most 2) at once, 32 waiting, 8 per address by default; configurable', () => {
  const concurrent = Math.min(2, Math.max(1, availableParallelism() - 1));
  assert.deepEqual(loadConfig({}, '/srv').passwordChecks, { concurrent, queue: 32, perIp: 8 });
  const config = loadConfig(
    { GITFLEET_PASSWORD_CHECKS: '4', GITFLEET_PASSWORD_CHECK_QUEUE: '0', GITFLEET_PASSWORD_CHECKS_PER_IP: '1' },
    '/srv',
  );
  assert.deepEqual(config.passwordChecks, { concurrent: 4, queue: 0, perIp: 1 });
  assert.throws(() => loadConfig({ GITFLEET_PASSWORD_CHECKS: '0' }), /GITFLEET_PASSWORD_CHECKS="0"/);
});

test('GITFLEET_TRUST_PROXY: no proxy by default, a hop count, or addresses and CIDR ranges', () => {
  assert.equal(loadConfig({}, '/srv').trustProxy, false);
  assert.equal(loadConfig({ GITFLEET_TRUST_PROXY: '1' }).trustProxy, 1);
  assert.deepEqual(loadConfig({ GITFLEET_TRUST_PROXY: 'loopback, 10.0.0.0/8, fd00::/8, 192.0.2.7' }).trustProxy, [
    'loopback',
    '10.0.0.0/8',
    'fd00::/8',
    '192.0.2.7',
  ]);
  for (const bad of ['true', '10.0.0.0/33', 'proxy.example', '0', '1.2.3.4/8/9']) {
    assert.throws(() => loadConfig({ GITFLEET_TRUST_PROXY: bad }), /GITFLEET_TRUST_PROXY/, bad);
  }
});

test('maintenance: on, one repository at a time, an hourly sweep, runs of at most four hours, a six-hour grace period; configurable', () => {
  assert.deepEqual(loadConfig({}).maintenance, {
    enabled: true,
    concurrency: 1,
    sweepIntervalMs: 3_600_000,
    maxRunMs: 14_400_000,
    graceSeconds: 21_600,
  });
  assert.deepEqual(
    loadConfig({
      GITFLEET_MAINTENANCE: '0',
      GITFLEET_MAINTENANCE_CONCURRENCY: '3',
      GITFLEET_MAINTENANCE_SWEEP_SECONDS: '0',
      GITFLEET_MAINTENANCE_MAX_SECONDS: '600',
      GITFLEET_PACK_GRACE_SECONDS: '7200',
    }).maintenance,
    { enabled: false, concurrency: 3, sweepIntervalMs: 0, maxRunMs: 600_000, graceSeconds: 7200 },
  );
});

test('durations that node timers cannot hold (over 24.8 days) are refused, not turned into an immediate timeout', () => {
  for (const name of ['GITFLEET_MAINTENANCE_SWEEP_SECONDS', 'GITFLEET_MAINTENANCE_MAX_SECONDS']) {
    assert.throws(
      () => loadConfig({ [name]: '2147484' }),
      (error: unknown) => error instanceof ConfigError && error.problems.some((problem) => problem.startsWith(`${name}=`)),
    );
    assert.equal(
      loadConfig({ [name]: '2147483' }).maintenance[name.endsWith('SWEEP_SECONDS') ? 'sweepIntervalMs' : 'maxRunMs'],
      2_147_483_000,
    );
  }
});

test('the grace period of replaced packs must outlast the longest request and an old registry view', () => {
  const refused = (env: Record<string, string>) =>
    assert.throws(
      () => loadConfig(env),
      (error: unknown) =>
        error instanceof ConfigError && error.problems.some((problem) => problem.startsWith('GITFLEET_PACK_GRACE_SECONDS=')),
    );
  refused({ GITFLEET_PACK_GRACE_SECONDS: '3600' });
  refused({ GITFLEET_PACK_GRACE_SECONDS: '20', GITFLEET_REQUEST_TIMEOUT_MS: '0' });
  assert.equal(loadConfig({ GITFLEET_PACK_GRACE_SECONDS: '3700' }).maintenance.graceSeconds, 3700);
  assert.equal(loadConfig({ GITFLEET_PACK_GRACE_SECONDS: '31', GITFLEET_REQUEST_TIMEOUT_MS: '0' }).maintenance.graceSeconds, 31);
});

test('metrics are on for local clients by default; a token opens them to others, and a short one is refused unechoed', () => {
  assert.deepEqual(loadConfig({}).metrics, { enabled: true });
  assert.deepEqual(loadConfig({ GITFLEET_METRICS: '0', GITFLEET_METRICS_TOKEN: 'sixteen-chars-ok' }).metrics, {
    enabled: false,
    token: 'sixteen-chars-ok',
  });
  const secret = 'too-short';
  assert.throws(
    () => loadConfig({ GITFLEET_METRICS_TOKEN: secret, GITFLEET_METRICS: 'perhaps' }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.problems.map((problem) => problem.split(/[= ]/)[0]).sort(), ['GITFLEET_METRICS', 'GITFLEET_METRICS_TOKEN:']);
      assert.ok(!error.message.includes(secret), error.message);
      return true;
    },
  );
});

test('the fence age of push events covers a Redis failover; only the test-only setting lowers it, to a few seconds at least', () => {
  assert.equal(loadConfig({ GITFLEET_HOOK_RECOVERY_DELAY_MS: '0' }).hooks.minFenceAgeMs, MIN_FENCE_AGE_MS);
  assert.equal(loadConfig({ GITFLEET_TEST_HOOK_MIN_FENCE_AGE_MS: '3000' }).hooks.minFenceAgeMs, 3000);
  for (const value of ['300', '0', String(MIN_FENCE_AGE_MS + 1), 'soon']) {
    assert.throws(
      () => loadConfig({ GITFLEET_TEST_HOOK_MIN_FENCE_AGE_MS: value }),
      (error: unknown) =>
        error instanceof ConfigError && error.problems.some((problem) => problem.startsWith('GITFLEET_TEST_HOOK_MIN_FENCE_AGE_MS=')),
    );
  }
});

test('a hook keeps at most 10,000 dead letters', () => {
  assert.equal(loadConfig({ GITFLEET_HOOK_DEAD_LETTERS_KEEP: '10000' }).hooks.keepDeadLetters, 10_000);
  assert.throws(
    () => loadConfig({ GITFLEET_HOOK_DEAD_LETTERS_KEEP: '10000000' }),
    (error: unknown) =>
      error instanceof ConfigError && error.problems.some((problem) => problem.startsWith('GITFLEET_HOOK_DEAD_LETTERS_KEEP=')),
  );
});

test('packs pushed in memory are stored joined to their index unless GITFLEET_JOINED_PACKS=0', () => {
  assert.equal(loadConfig({}).joinedPacks, true);
  assert.equal(loadConfig({ GITFLEET_JOINED_PACKS: '0' }).joinedPacks, false);
  assert.throws(
    () => loadConfig({ GITFLEET_JOINED_PACKS: 'separate' }),
    (error: unknown) => error instanceof ConfigError && error.problems.some((problem) => problem.startsWith('GITFLEET_JOINED_PACKS=')),
  );
});
