import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Cluster, Redis } from 'ioredis';
import { RedisKVStore, ReplicaAckError, type RedisConnection } from '@gitfleet/storage';
import { runKVStoreConformance } from '@gitfleet/storage/conformance';
import { remoteEnv, skipRemoteStores, uniqueName } from '@gitfleet/test-support/stores';

// Runs against real redis-server processes started by scripts/servers/redis.sh: one
// instance always; a 3-master + 3-replica Cluster when GITFLEET_TEST_REDIS_CLUSTER is set
// (`--cluster`); a Sentinel-managed master with one replica when GITFLEET_TEST_REDIS_SENTINEL
// (host:port/master-name) is set (`--sentinel`).

const env = skipRemoteStores ? undefined : remoteEnv(['GITFLEET_TEST_REDIS_URL'], 'scripts/servers/redis.sh start');
const clusterNodes = process.env.GITFLEET_TEST_REDIS_CLUSTER?.split(',').map((node) => {
  const [host, port] = node.split(':');
  return { host, port: Number(port) };
});

const sentinel = process.env.GITFLEET_TEST_REDIS_SENTINEL?.match(/^([^:]+):(\d+)\/(.+)$/);

if (env === undefined) {
  describe('RedisKVStore', { skip: 'GITFLEET_SKIP_REMOTE_STORES=1' }, () => {});
} else if (env instanceof Error) {
  describe('RedisKVStore', () => {
    it('needs a running redis-server', () => {
      throw env;
    });
  });
} else {
  const single: RedisConnection = { url: env.GITFLEET_TEST_REDIS_URL };
  runKVStoreConformance('RedisKVStore (single instance)', async () => isolated(single));

  describe('RedisKVStore (single instance)', () => {
    it('keeps a whole scope under one hash tag, braces in the scope included', async () => {
      const { store, cleanup, namespace } = isolated(single);
      const raw = new Redis(env.GITFLEET_TEST_REDIS_URL);
      try {
        for (const scope of ['repo-1', '}odd{', '%7d']) {
          await store.compareAndSwap(
            scope,
            [{ key: 'refs/heads/main', expect: null, value: 'v', log: { name: 'reflog', entry: 'e' } }],
            'all',
          );
        }
        // Each swap's answer is kept under a token of its own (see CAS_SCRIPT).
        const keys = (await raw.keys(`${namespace}:*`)).map((key) => key.replace(/:answer:[0-9a-f-]{36}$/, ':answer:<token>')).sort();
        assert.deepEqual(keys, [
          `${namespace}:{%257d}:answer:<token>`,
          `${namespace}:{%257d}:index`,
          `${namespace}:{%257d}:k:refs/heads/main`,
          `${namespace}:{%257d}:log:reflog`,
          `${namespace}:{%7dodd%7b}:answer:<token>`,
          `${namespace}:{%7dodd%7b}:index`,
          `${namespace}:{%7dodd%7b}:k:refs/heads/main`,
          `${namespace}:{%7dodd%7b}:log:reflog`,
          `${namespace}:{repo-1}:answer:<token>`,
          `${namespace}:{repo-1}:index`,
          `${namespace}:{repo-1}:k:refs/heads/main`,
          `${namespace}:{repo-1}:log:reflog`,
        ]);
        assert.equal(await store.get('}odd{', 'refs/heads/main'), 'v');
        assert.equal(await store.get('%7d', 'refs/heads/main'), 'v');
      } finally {
        raw.disconnect();
        await store.close();
        await cleanup();
      }
    });

    it('fails a write that fewer replicas than required acknowledged, after applying it', async () => {
      // The single instance has no replica, so WAIT 1 can only time out.
      const { store, cleanup } = isolated(single, { waitReplicas: 1, waitTimeoutMs: 50 });
      try {
        await assert.rejects(
          store.compareAndSwap('s', [{ key: 'k', expect: null, value: 'v' }], 'all'),
          (error: unknown) => error instanceof ReplicaAckError && error.acknowledged === 0 && error.required === 1,
        );
        assert.equal(await store.get('s', 'k'), 'v', 'the master has it: the outcome is unknown, not undone');
        assert.deepEqual(
          await store.compareAndSwap('s', [{ key: 'k', expect: null, value: 'again' }], 'all'),
          { conflicts: [0] },
          'a refused CAS wrote nothing, so there is nothing to wait for',
        );
        await assert.rejects(store.append('s', 'log', 'e'), ReplicaAckError);
      } finally {
        await store.close();
        await cleanup();
      }
    });
  });

  if (clusterNodes) {
    const cluster: RedisConnection = { cluster: clusterNodes };
    runKVStoreConformance('RedisKVStore (Cluster, WAIT 1)', async () => isolated(cluster, { waitReplicas: 1, waitTimeoutMs: 2_000 }));

    describe('RedisKVStore (Cluster)', () => {
      let raw: Cluster;
      before(async () => {
        raw = await readyCluster(clusterNodes);
      });
      after(() => raw.disconnect());

      it('spreads scopes over the shards, each scope on one', async () => {
        const { store, cleanup, namespace } = isolated(cluster, { waitReplicas: 1, waitTimeoutMs: 2_000 });
        try {
          const scopes = Array.from({ length: 12 }, (_, i) => `repo-${i}`);
          for (const scope of scopes) {
            await store.compareAndSwap(
              scope,
              [
                { key: 'a', expect: null, value: '1' },
                { key: 'b', expect: null, value: '2', log: { name: 'l', entry: 'e' } },
              ],
              'all',
            );
          }
          const mastersHolding = new Set<string>();
          for (const master of raw.nodes('master')) {
            const keys = await master.keys(`${namespace}:*`);
            if (keys.length > 0) mastersHolding.add(`${master.options.host}:${master.options.port}`);
            const scopesHere = new Set(keys.map((key) => key.split(':')[1]));
            for (const scope of scopesHere)
              // The index, two values, the log, and the answer the compare-and-swap keeps for a resent call.
              assert.equal(keys.filter((key) => key.split(':')[1] === scope).length, 5, `all of ${scope} on one master`);
          }
          assert.ok(mastersHolding.size > 1, 'twelve scopes do not all hash to one shard');
          for (const scope of scopes)
            assert.deepEqual(await store.scan(scope, ''), [
              { key: 'a', value: '1' },
              { key: 'b', value: '2' },
            ]);
        } finally {
          await store.close();
          await cleanup();
        }
      });
    });
  }

  if (sentinel) {
    const connection: RedisConnection = {
      sentinels: [{ host: sentinel[1], port: Number(sentinel[2]) }],
      masterName: sentinel[3],
    };
    runKVStoreConformance('RedisKVStore (Sentinel, WAIT 1)', async () => isolated(connection, { waitReplicas: 1, waitTimeoutMs: 2_000 }));
  }

  /** A store under a fresh namespace, and a cleanup that deletes every key of it. */
  function isolated(connection: RedisConnection, options: { waitReplicas?: number; waitTimeoutMs?: number } = {}) {
    const namespace = uniqueName('gftest');
    const open = () => new RedisKVStore({ connection, namespace, ...options });
    return {
      namespace,
      store: open(),
      connectAgain: async () => open(),
      cleanup: () => deleteNamespace(connection, namespace),
    };
  }
}

async function deleteNamespace(connection: RedisConnection, namespace: string): Promise<void> {
  const client =
    'cluster' in connection
      ? await readyCluster(connection.cluster)
      : 'sentinels' in connection
        ? new Redis({ sentinels: connection.sentinels, name: connection.masterName })
        : new Redis(connection.url);
  try {
    const nodes = client instanceof Cluster ? client.nodes('master') : [client];
    for (const node of nodes) {
      for await (const keys of node.scanStream({ match: `${namespace}:*`, count: 1000 })) {
        // One DEL per key (in a Cluster, keys of different scopes live in different slots),
        // pipelined: with appendfsync always, Redis then fsyncs once per batch, not per key.
        const pipeline = node.pipeline();
        for (const key of keys as string[]) pipeline.del(key);
        await pipeline.exec();
      }
    }
  } finally {
    client.disconnect();
  }
}

/** A Cluster client that knows the masters (nodes() is empty until the slots are loaded). */
async function readyCluster(nodes: Array<{ host: string; port: number }>): Promise<Cluster> {
  const cluster = new Cluster(nodes);
  await new Promise<void>((resolve, reject) => {
    cluster.once('ready', resolve);
    cluster.once('error', reject);
  });
  return cluster;
}
