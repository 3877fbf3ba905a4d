/**
 * Looks at what a killed server left behind, from outside it: files in its data directory, pack
 * blobs no registry entry names, and (for the failover rounds) the Redis Cluster's roles.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { MaintenanceLease, RepositoryRegistry, collectPacks, type Repository } from '../../packages/repository/src/index.js';
import { loadConfig, openStores, type OpenStores } from '../../server/src/index.js';
import { parseClusterNodes, redisCli, redisClusterNodes, type ClusterNode } from '../../packages/test-support/src/server-storage.js';

/** Where maintenance works, inside the spool directory: a maintenance child removes its own. */
const MAINTENANCE_WORK = /^maintenance-/;
const LEASE_MS = 60_000;

/**
 * Files a restarted server should not have kept: anything in its spool directory but a
 * maintenance run's work, and the blob store's temp files (embedded backend). Paths relative
 * to `dataDir`.
 */
export async function leftoverFiles(dataDir: string): Promise<string[]> {
  const found: string[] = [];
  for (const dir of [join(dataDir, 'spool'), join(dataDir, 'objects', '~tmp')]) {
    let entries: string[];
    try {
      entries = await readdir(dir, { recursive: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    for (const entry of entries) {
      if (MAINTENANCE_WORK.test(entry)) continue;
      const path = join(dir, entry);
      if (!(await stat(path)).isDirectory()) found.push(relative(dataDir, path));
    }
  }
  return found.sort();
}

/** A repository as the crash rounds know it. */
export interface CrashRepository {
  owner: string;
  name: string;
  id: string;
}

/** The stores of the server configured by `env` (its CLI environment), opened in this process for `work`. */
async function withStores<T>(
  env: Record<string, string>,
  work: (stores: OpenStores, registry: RepositoryRegistry) => Promise<T>,
): Promise<T> {
  const stores = await openStores(loadConfig({ ...process.env, ...env }));
  try {
    return await work(stores, new RepositoryRegistry(stores));
  } finally {
    await stores.close();
  }
}

async function openRepository(registry: RepositoryRegistry, { owner, name }: CrashRepository): Promise<Repository> {
  const repo = await registry.open(owner, name);
  if (!repo) throw new Error(`repository ${owner}/${name} is gone`);
  return repo;
}

/**
 * Checksums of packs whose blobs are in the blob store but which the pack registry does not
 * know, active or retired: what a push killed between storing its pack and registering it
 * leaves. Read while no push runs.
 */
export function unregisteredPacks(env: Record<string, string>, repositories: readonly CrashRepository[]): Promise<string[]> {
  return withStores(env, async (stores, registry) => {
    const unregistered = new Set<string>();
    for (const crashRepository of repositories) {
      const repo = await openRepository(registry, crashRepository);
      await repo.packs.refresh();
      const registered = new Set([...(await repo.packs.list()), ...(await repo.packs.retired())].map((pack) => pack.checksum));
      // The layout of packages/repository/src/keys.ts: repos/<id>/packs/pack-<checksum>.<extension>.
      for await (const { key } of stores.blobs.list(`repos/${repo.info.id}/packs/`)) {
        const checksum = /\/pack-([0-9a-f]{40})\.[a-z0-9]+$/.exec(key)?.[1];
        if (checksum !== undefined && !registered.has(checksum)) unregistered.add(checksum);
      }
    }
    return [...unregistered];
  });
}

/**
 * The collection a maintenance run starts with (collectPacks, under the repository's maintenance
 * lease), with `graceSeconds`: it records unregistered packs as sighted, and deletes those sighted
 * a grace period ago. Run in this process: a CLI per repository would cost seconds of start-up.
 */
export function collectPacksNow(
  env: Record<string, string>,
  repositories: readonly CrashRepository[],
  graceSeconds: number,
): Promise<void> {
  return withStores(env, async (stores, registry) => {
    for (const crashRepository of repositories) {
      const repo = await openRepository(registry, crashRepository);
      // The scope of a repository's keys (packages/repository/src/keys.ts).
      const lease = await MaintenanceLease.acquire(stores.kv, `repo:${repo.info.id}`, 'crash rounds', LEASE_MS);
      if (!lease) throw new Error(`${crashRepository.name}: another process holds the maintenance lease`);
      try {
        await collectPacks(repo, lease, { graceMs: graceSeconds * 1000 });
      } finally {
        await lease.release();
      }
    }
  });
}

/**
 * Fails over the Cluster master that holds a repository's keys: `CLUSTER FAILOVER` on one of its
 * replicas, which waits for the replica to catch up, then swaps their roles. Resolves once the
 * replica serves as master and the cluster reports itself healthy; returns what was done.
 */
export async function failOverMasterOf(repositoryId: string): Promise<string> {
  const [seedHost, seedPort] = redisClusterNodes().split(',')[0].split(':');
  const seed = ['-h', seedHost, '-p', seedPort];
  // The Redis KV's hash tag of a repository's scope (packages/storage/src/redis).
  const slot = Number((await redisCli([...seed, 'cluster', 'keyslot', `{repo:${repositoryId}}`])).trim());
  const nodes = parseClusterNodes(await redisCli([...seed, 'cluster', 'nodes']));
  const master = nodes.find((node) => node.master && node.slots.some(([first, last]) => first <= slot && slot <= last));
  const replica = nodes.find((node) => !node.master && node.connected && node.masterId === master?.id);
  if (!master || !replica) throw new Error(`no master with a connected replica serves slot ${slot}: ${JSON.stringify(nodes)}`);
  const at = (node: ClusterNode) => ['-h', node.host, '-p', String(node.port)];
  await redisCli([...at(replica), 'cluster', 'failover']);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const promoted = parseClusterNodes(await redisCli([...at(replica), 'cluster', 'nodes'])).find((node) => node.id === replica.id);
    const info = await redisCli([...at(replica), 'cluster', 'info']);
    if (promoted?.master && /cluster_state:ok/.test(info)) break;
    if (Date.now() > deadline) throw new Error(`${replica.host}:${replica.port} did not take over slot ${slot} within 30 s:\n${info}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return `slot ${slot}: ${replica.host}:${replica.port} took over from ${master.host}:${master.port}`;
}
