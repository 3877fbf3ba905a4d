// Several stateless server processes as one Gitfleet: refs in one Redis (or Redis Cluster),
// packs in one S3 store (or spread with copies over three stores). What one server accepts,
// every other serves at once; racing pushes through different servers have one winner per
// round and lose nothing accepted, also across a Redis Cluster failover; a repository whose
// packs have two copies over three stores survives the loss of one store, and `repair`
// restores the copies afterwards.
//
// Needs the test servers: eval "$(scripts/servers/radosgw.sh start)", and the same for
// `redis.sh start` and `redis.sh start --cluster` (scripts/test.sh starts them itself).
import assert from 'node:assert/strict';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { FsBlobStore, MemoryBlobStore, PlacementBlobStore, S3BlobStore, type BlobStore } from '@gitfleet/storage';
import { GitClient } from '@gitfleet/test-support/git-client';
import { runCli } from '@gitfleet/test-support/cli';
import { serverTest, startServer, type TestServer } from '@gitfleet/test-support/server';
import {
  deleteS3Prefix,
  distributedStorage,
  parseClusterNodes,
  redisCli,
  redisClusterNodes,
  s3Target,
  skipWithoutRemoteStores as skip,
  type StorageBackend,
} from '@gitfleet/test-support/server-storage';
import { assertFsckClean, remoteRefs } from './helpers/compare.js';
import { TcpProxy } from './helpers/tcp-proxy.js';

const SERVERS = 3;
const PROTOCOL = 2;

/** Starts `count` servers over the same storage, at once. */
function startFleet(storage: StorageBackend, count = SERVERS, env: Record<string, string> = {}): Promise<TestServer[]> {
  return Promise.all(Array.from({ length: count }, () => startServer(env, { storage })));
}

/** The placement tests count and compare blobs: they are the pushes' packs only, which a compaction would add to. */
const WITHOUT_MAINTENANCE = { GITFLEET_MAINTENANCE: '0' };

/** The same repository's URL on another server. */
function on(server: TestServer, url: string): string {
  return server.url + new URL(url).pathname;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Ids of HEAD's commit and of every object reachable from it. */
async function headObjects(git: GitClient, dir: string): Promise<string[]> {
  const objects = (await git.ok(['rev-list', '--objects', 'HEAD'], { cwd: dir })).split('\n').map((line) => line.slice(0, 40));
  return [await git.revParse(dir, 'HEAD'), ...objects.sort()];
}

/** `clone` is at the same commit as `source`, holds everything reachable from it, and is fsck-clean. */
async function assertSameHead(git: GitClient, source: string, clone: string): Promise<void> {
  assert.deepEqual(await headObjects(git, clone), await headObjects(git, source), `${clone} differs from ${source}`);
  await assertFsckClean(git, clone);
}

/** The repository's main branch as one server advertises it. */
async function mainTip(git: GitClient, url: string): Promise<string | undefined> {
  return (await remoteRefs(git, url)).get('refs/heads/main');
}

/**
 * Retries `action` while it fails, for reads during a Redis failover (a server may answer
 * 5xx until its client has found the new master); the last failure is rethrown.
 */
async function eventually<T>(what: string, action: () => Promise<T>, attempts = 40): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await action();
    } catch (error) {
      if (attempt >= attempts)
        throw attempts === 1 ? error : new Error(`${what}: still failing after ${attempts} attempts: ${(error as Error).message}`);
      await sleep(500);
    }
  }
}

interface RaceOptions {
  rounds: number;
  /** Clients per server; each pushes through its own server. */
  clientsPerServer: number;
  /**
   * Runs alongside the pushes of round `during.round` (a Redis failover). Pushes may then
   * fail, and one reported as failed may still have moved the branch (the outcome of a write
   * whose replica acknowledgement timed out is unknown): such rounds have at most one winner.
   */
  during?: { round: number; action: () => Promise<void> };
}

/**
 * Rounds of racing pushes to main of `url`, client i pushing through server i mod N, each
 * on the same base. Checks that every round has a single winner (at most one in a round
 * with a disruption) and main is its commit, and that main's history at the end is exactly
 * the chain of commits that landed, which includes every push reported accepted.
 */
async function raceThroughServers(
  git: GitClient,
  servers: TestServer[],
  url: string,
  options: RaceOptions,
): Promise<{ accepted: number; failed: number }> {
  const seed = await git.init('seed');
  const root = await git.commitFiles(seed, { 'base.txt': 'base\n' }, 'base');
  await git.ok(['push', url, 'main'], { cwd: seed });
  const clients = await Promise.all(
    Array.from({ length: servers.length * options.clientsPerServer }, (_, i) =>
      git.clone(on(servers[i % servers.length], url), `client-${i}`),
    ),
  );

  // Only a run with a disruption tolerates (and retries) failing reads.
  const attempts = options.during ? 40 : 1;
  const landed: string[] = [];
  const acceptedCommits: string[] = [];
  let failedPushes = 0;
  let base = root;
  for (let round = 0; round < options.rounds; round++) {
    const disrupted = options.during?.round === round;
    const commits = await Promise.all(
      clients.map(async (dir, i) => {
        await eventually(`round ${round}: fetch of client ${i}`, () => git.ok(['fetch', '-q', 'origin'], { cwd: dir }), attempts);
        await git.ok(['reset', '-q', '--hard', 'origin/main'], { cwd: dir });
        assert.equal(
          await git.revParse(dir, 'HEAD'),
          base,
          `round ${round}: client ${i} (through ${servers[i % servers.length].url}) does not see the tip`,
        );
        return git.commitFiles(dir, { [`round-${round}/client-${i}.txt`]: `${round} ${i}\n` }, `round ${round} client ${i}`);
      }),
    );
    const pushes = Promise.all(clients.map((dir) => git.run(['push', 'origin', 'main'], { cwd: dir })));
    const [results] = await Promise.all([pushes, disrupted ? options.during!.action() : Promise.resolve()]);
    const winners = results.flatMap((result, i) => (result.code === 0 ? [i] : []));
    const outputs = results.map((result, i) => `client ${i} (exit ${result.code}):\n${result.stderr}`).join('\n');
    failedPushes += results.length - winners.length;

    const tip = await eventually(`round ${round}: ls-remote`, () => mainTip(git, on(servers[round % servers.length], url)), attempts);
    assert.ok(tip, `round ${round}: main is gone`);
    if (disrupted) {
      assert.ok(winners.length <= 1, `round ${round}: ${winners.length} pushes succeeded\n${outputs}`);
      if (winners.length === 1) assert.equal(tip, commits[winners[0]], `round ${round}: main is not the winner's commit\n${outputs}`);
      else
        assert.ok(
          tip === base || commits.includes(tip),
          `round ${round}: main moved to ${tip}, which no client of this round pushed\n${outputs}`,
        );
    } else {
      assert.equal(winners.length, 1, `round ${round}: expected exactly one successful push\n${outputs}`);
      assert.equal(tip, commits[winners[0]], `round ${round}: main is not the winner's commit\n${outputs}`);
    }
    if (winners.length === 1) acceptedCommits.push(commits[winners[0]]);
    if (tip !== base) landed.push(tip);
    base = tip;
  }

  // Every server serves the same, complete history.
  for (const [index, server] of servers.entries()) {
    const final = await git.clone(on(server, url), `final-${index}`);
    const history = (await git.ok(['rev-list', 'HEAD'], { cwd: final })).split('\n');
    assert.deepEqual(history, [...landed].reverse().concat(root), `server ${index}: main is not the chain of commits that landed`);
    for (const commit of acceptedCommits) assert.ok(history.includes(commit), `server ${index}: accepted commit ${commit} is lost`);
    await assertFsckClean(git, final);
  }
  return { accepted: acceptedCommits.length, failed: failedPushes };
}

describe('three servers over one Redis and one S3 store', { skip }, () => {
  let storage: StorageBackend;
  let servers: TestServer[] = [];
  let git: GitClient;
  before(async () => {
    storage = distributedStorage({ label: 'multi' });
    servers = await startFleet(storage);
    git = await GitClient.create(PROTOCOL);
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await storage?.dispose();
    await git?.cleanup();
  });
  const it = serverTest(() => servers);

  it('a push through one server is served at once by a clone and a fetch through the others', async () => {
    const [first, second, third] = servers;
    const url = await first.createRepo('fleet', 'visible');
    const work = await git.init('writer');
    await git.commitFiles(work, { 'a.txt': 'start\n' }, 'start');
    await git.ok(['push', url, 'HEAD:refs/heads/main'], { cwd: work });
    // The fetcher's clone predates the pushes below: each round it must learn about new packs.
    const fetcher = await git.clone(on(third, url), 'fetcher');

    for (let round = 0; round < 3; round++) {
      const commit = await git.commitFiles(
        work,
        { [`round-${round}.txt`]: `round ${round}\n`, 'a.txt': `changed in round ${round}\n` },
        `round ${round}`,
      );
      await git.ok(['push', on(first, url), 'HEAD:refs/heads/main'], { cwd: work });
      const [clone] = await Promise.all([
        git.clone(on(second, url), `clone-${round}`),
        git.ok(['fetch', '-q', 'origin'], { cwd: fetcher }),
      ]);
      assert.equal(
        await git.revParse(clone, 'HEAD'),
        commit,
        `round ${round}: the clone through the second server is not at the pushed commit`,
      );
      assert.equal(
        await git.revParse(fetcher, 'origin/main'),
        commit,
        `round ${round}: the fetch through the third server did not bring the pushed commit`,
      );
      await assertSameHead(git, work, clone);
    }
    await assertFsckClean(git, fetcher);
  });

  it(
    'racing pushes through different servers: one winner per round, nothing accepted is lost',
    async () => {
      const url = await servers[0].createRepo('fleet', 'race');
      const outcome = await raceThroughServers(git, servers, url, { rounds: 5, clientsPerServer: 2 });
      assert.equal(outcome.accepted, 5);
    },
    { timeout: 300_000 },
  );
});

describe('three servers over a Redis Cluster, with a failover among the rounds', { skip }, () => {
  let storage: StorageBackend;
  let servers: TestServer[] = [];
  let git: GitClient;
  before(async () => {
    // A push reports success only once a replica has its ref update: what makes a failover lossless.
    storage = distributedStorage({ label: 'cluster', redis: 'cluster', extraEnv: { GITFLEET_REDIS_WAIT_REPLICAS: '1' } });
    servers = await startFleet(storage);
    git = await GitClient.create(PROTOCOL);
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await storage?.dispose();
    await git?.cleanup();
  });
  const it = serverTest(() => servers);

  it(
    'racing pushes survive a CLUSTER FAILOVER of the shard holding the repository',
    async (t) => {
      const { url, id } = await servers[0].createRepository('fleet', 'cluster-race');
      const namespace = storage.env.GITFLEET_REDIS_NAMESPACE;
      let failedOver: { from: string; to: string } | undefined;
      const outcome = await raceThroughServers(git, servers, url, {
        rounds: 8,
        clientsPerServer: 1,
        during: {
          round: 3,
          action: async () => {
            failedOver = await failOverShardOf(`${namespace}:*${id}*`);
          },
        },
      });
      assert.ok(failedOver, 'the failover did not run');
      t.diagnostic(
        `failover ${failedOver.from} -> ${failedOver.to}; ${outcome.accepted} pushes accepted, ${outcome.failed} refused or failed`,
      );
      // The seven undisturbed rounds each had their winner.
      assert.ok(outcome.accepted >= 7, `only ${outcome.accepted} of 8 rounds had a winner`);
    },
    { timeout: 300_000 },
  );
});

/**
 * Promotes the replica of the master that holds keys matching `pattern` (`CLUSTER FAILOVER`
 * sent to the replica, as an operator does) and waits until it is master.
 */
async function failOverShardOf(pattern: string): Promise<{ from: string; to: string }> {
  const [host, port] = redisClusterNodes().split(',')[0].split(':');
  const nodes = parseClusterNodes(await redisCli(['-h', host, '-p', port, 'cluster', 'nodes']));
  let master;
  for (const node of nodes.filter((candidate) => candidate.master && candidate.connected)) {
    const keys = await redisCli(['-h', node.host, '-p', String(node.port), '--scan', '--pattern', pattern]);
    if (keys.trim() !== '') master = node;
  }
  assert.ok(master, `no master of the cluster holds a key matching ${pattern}`);
  const replica = nodes.find((node) => node.masterId === master.id && node.connected);
  assert.ok(replica, `master ${master.host}:${master.port} has no connected replica`);
  const replicaArgs = ['-h', replica.host, '-p', String(replica.port)];
  assert.equal((await redisCli([...replicaArgs, 'cluster', 'failover'])).trim(), 'OK');
  await eventually(`replica ${replica.host}:${replica.port} becoming master`, async () => {
    const role = (await redisCli([...replicaArgs, 'role'])).split('\n')[0];
    if (role !== 'master') throw new Error(`role is ${role}`);
  });
  return { from: `${master.host}:${master.port}`, to: `${replica.host}:${replica.port}` };
}

/** Three blob stores a placement spreads packs over; one at a time can be lost and replaced. */
interface StoreTrio {
  /** GITFLEET_PLACEMENT_STORES. */
  readonly specs: unknown[];
  readonly names: readonly string[];
  /** Every key the store holds now (read directly, not through a server). */
  keys(name: string): Promise<Set<string>>;
  /** Makes the store unavailable to every server. */
  lose(name: string): Promise<void>;
  /** Brings it back empty, as a replacement disk or bucket would be. */
  replaceWithEmpty(name: string): Promise<void>;
  dispose(): Promise<void>;
}

const STORE_NAMES = ['store-a', 'store-b', 'store-c'] as const;

/** Three directories; a lost one is renamed away and a file put in its place, so it cannot come back by itself. */
async function fsTrio(root: string): Promise<StoreTrio> {
  const pathOf = (name: string) => join(root, name);
  for (const name of STORE_NAMES) await mkdir(pathOf(name), { recursive: true });
  return {
    specs: STORE_NAMES.map((name) => ({ name, type: 'fs', path: pathOf(name) })),
    names: STORE_NAMES,
    keys: async (name) => listKeys(await FsBlobStore.open(pathOf(name))),
    async lose(name) {
      await rename(pathOf(name), `${pathOf(name)}.lost`);
      await writeFile(pathOf(name), 'this store is lost\n');
    },
    async replaceWithEmpty(name) {
      await rm(pathOf(name), { force: true });
      await rm(`${pathOf(name)}.lost`, { recursive: true, force: true });
      await mkdir(pathOf(name));
    },
    dispose: () => rm(root, { recursive: true, force: true }),
  };
}

/**
 * Three prefixes of the test bucket, each reached through its own TCP proxy; a lost store's
 * proxy stops (connections refused), a replaced one comes back empty on the same port.
 */
async function s3Trio(basePrefix: string): Promise<StoreTrio> {
  const target = s3Target();
  const proxies = new Map<string, TcpProxy>();
  for (const name of STORE_NAMES) proxies.set(name, await TcpProxy.start(target.endpoint));
  const prefixOf = (name: string) => `${basePrefix}${name}/`;
  const direct = (name: string) =>
    new S3BlobStore({
      endpoint: target.endpoint,
      bucket: target.bucket,
      region: target.region,
      prefix: prefixOf(name),
      credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
    });
  return {
    // Bucket and credentials come from GITFLEET_S3_* of the server's environment.
    specs: STORE_NAMES.map((name) => ({ name, type: 's3', endpoint: proxies.get(name)!.url, prefix: prefixOf(name) })),
    names: STORE_NAMES,
    async keys(name) {
      const store = direct(name);
      try {
        return await listKeys(store);
      } finally {
        await store.close();
      }
    },
    lose: (name) => proxies.get(name)!.stop(),
    async replaceWithEmpty(name) {
      await deleteS3Prefix(target, prefixOf(name));
      await proxies.get(name)!.resume();
    },
    async dispose() {
      await Promise.all([...proxies.values()].map((proxy) => proxy.stop()));
      await deleteS3Prefix(target, basePrefix);
    },
  };
}

async function listKeys(store: BlobStore): Promise<Set<string>> {
  const keys = new Set<string>();
  for await (const { key } of store.list('')) keys.add(key);
  return keys;
}

/** For each key of any store, the stores holding a copy. */
async function copiesPerKey(trio: StoreTrio): Promise<Map<string, string[]>> {
  const copies = new Map<string, string[]>();
  for (const name of trio.names) {
    for (const key of await trio.keys(name)) copies.set(key, [...(copies.get(key) ?? []), name]);
  }
  return copies;
}

const REPLICAS = 2;
/** The placement order every server computes (it depends only on the store names). */
const placement = new PlacementBlobStore({
  stores: STORE_NAMES.map((name) => ({ name, store: new MemoryBlobStore() })),
  replicas: REPLICAS,
});

for (const kind of ['fs', 's3'] as const) {
  describe(`one repository over three ${kind} stores with two copies of every pack`, { skip }, () => {
    let storage: StorageBackend;
    let trio: StoreTrio;
    let servers: TestServer[] = [];
    let git: GitClient;
    before(async () => {
      git = await GitClient.create(PROTOCOL);
      const base = distributedStorage({ label: `placement-${kind}` });
      trio = kind === 'fs' ? await fsTrio(await git.tempDir('stores')) : await s3Trio(`${base.env.GITFLEET_S3_PREFIX}stores/`);
      storage = {
        ...base,
        env: {
          ...base.env,
          GITFLEET_BLOB_BACKEND: 'placement',
          GITFLEET_PLACEMENT_STORES: JSON.stringify(trio.specs),
          GITFLEET_PLACEMENT_REPLICAS: String(REPLICAS),
          GITFLEET_PLACEMENT_READ_TIMEOUT_MS: '1000',
        },
      };
      servers = await startFleet(storage, 2, WITHOUT_MAINTENANCE);
    });
    after(async () => {
      await Promise.all(servers.map((server) => server.stop()));
      await trio?.dispose();
      await storage?.dispose();
      await git?.cleanup();
    });
    const it = serverTest(() => servers);

    it(
      'clone and push work with one store lost; repair restores two copies of every blob',
      async () => {
        const [writer, reader] = servers;
        const url = await writer.createRepo('fleet', `placed-${kind}`);
        const work = await git.init('work');
        // Several pushes, several packs: enough blobs that every store is preferred for some.
        for (let push = 0; push < 6; push++) {
          await git.commitFiles(work, { [`push-${push}.txt`]: `push ${push}\n`.repeat(100 + push) }, `push ${push}`);
          await git.ok(['push', url, 'HEAD:refs/heads/main'], { cwd: work });
        }

        const before = await copiesPerKey(trio);
        assert.ok(before.size >= 12, `expected at least 12 blobs (6 packs and their indexes), found ${before.size}`);
        for (const [key, holders] of before) {
          assert.deepEqual(
            [...holders].sort(),
            placement.placement(key).slice(0, REPLICAS).sort(),
            `${key}: copies not on its preferred stores`,
          );
        }

        // The store preferred for the most blobs is lost.
        const lost = STORE_NAMES.map((name) => ({
          name,
          count: [...before.values()].filter((holders) => holders.includes(name)).length,
        })).sort((a, b) => b.count - a.count)[0].name;
        await trio.lose(lost);

        const clone = await git.clone(on(reader, url), 'clone-with-store-lost');
        await assertSameHead(git, work, clone);
        const pushedWhileLost = await git.commitFiles(clone, { 'while-lost.txt': 'pushed while a store was lost\n' }, 'while lost');
        await git.ok(['push', 'origin', 'HEAD:refs/heads/main'], { cwd: clone });
        assert.equal(await mainTip(git, on(writer, url)), pushedWhileLost);
        const fetched = await git.clone(on(writer, url), 'clone-after-push');
        await assertSameHead(git, clone, fetched);

        await trio.replaceWithEmpty(lost);
        const degraded = await copiesPerKey(trio);
        const underReplicated = [...degraded].filter(([, holders]) => holders.length < REPLICAS).map(([key]) => key);
        assert.ok(underReplicated.length > 0, `losing ${lost} left every blob with ${REPLICAS} copies: the test lost nothing`);
        for (const [key, holders] of degraded) assert.ok(holders.length >= 1, `${key} has no copy left`);

        const repair = await runCli(['repair'], storage.env);
        assert.equal(repair.code, 0, `repair failed:\n${repair.stdout}\n${repair.stderr}`);
        const repaired = await copiesPerKey(trio);
        assert.deepEqual(new Set(repaired.keys()), new Set(degraded.keys()), 'repair changed the set of blobs');
        for (const [key, holders] of repaired) {
          for (const preferred of placement.placement(key).slice(0, REPLICAS)) {
            assert.ok(
              holders.includes(preferred),
              `${key}: no copy on its preferred store ${preferred} after repair (copies on ${holders.join(', ')})`,
            );
          }
        }
        const repairedOnLost = [...repaired].filter(
          ([key, holders]) => holders.includes(lost) && !degraded.get(key)!.includes(lost),
        ).length;
        assert.ok(
          repairedOnLost >= underReplicated.length,
          `repair put ${repairedOnLost} copies on ${lost}, ${underReplicated.length} blobs lacked one`,
        );

        // Two copies again: any other store may now be lost too. A fresh server, whose
        // caches hold nothing, must read every pack from the remaining stores.
        const next = STORE_NAMES.find((name) => name !== lost)!;
        const fresh = await startServer(WITHOUT_MAINTENANCE, { storage });
        servers.push(fresh);
        await trio.lose(next);
        try {
          const again = await git.clone(on(fresh, url), 'clone-after-repair');
          await assertSameHead(git, fetched, again);
          await assertFsckClean(git, again);
        } finally {
          await trio.replaceWithEmpty(next);
        }
      },
      { timeout: 300_000 },
    );
  });
}
