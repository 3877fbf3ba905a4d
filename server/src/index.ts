import { once } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AccountStore, QuotaStore } from '@gitfleet/accounts';
import { lowerHelperThreadsPriority } from '@gitfleet/git-format';
import {
  collectDeletedRepositories,
  LfsObjectRecords,
  pruneJournal,
  Repository,
  RepositoryRegistry,
  type RepositoryInfo,
} from '@gitfleet/repository';
import type { WebhookService } from '@gitfleet/events';
import { PackIndexPool } from '@gitfleet/protocol';
import type { StoreInterceptor } from '@gitfleet/storage';
import { baseUrlFor, configuredBaseUrl, createApp } from './app.js';
import { LoginGuard, bootstrapAdmin, createLoginThrottle, passwordCheckTurns, refusingGuessesEarly } from './auth/index.js';
import { openBrowsing, type Browsing } from './browsing.js';
import { ownWorkerSlot, type WarmMessage } from './cluster/messages.js';
import { runMaintenanceChild } from './maintenance/child-runner.js';
import { bySize } from './maintenance/placement.js';
import { checkFleetLayout, layoutRefusal } from './maintenance/placement-layout.js';
import { PlacementRepairJob } from './maintenance/placement-repair-job.js';
import { MaintenanceScheduler } from './maintenance/scheduler.js';
import { kvSweepClock } from './maintenance/sweep-clock.js';
import { warmSidecars } from './maintenance/warm-sidecars.js';
import { maintainInProcess, maintenanceCheck } from './operations/maintain-repository.js';
import { StorageQuotas } from './operations/storage-quotas.js';
import type { ServerConfig } from './config.js';
import { ConnectionGate } from './limits/connection-gate.js';
import { createLogger, type Logger } from './logger.js';
import type { ServerServices } from './services.js';
import { claimReceiveSpool } from './receive-spool.js';
import { openStores, spoolDirectory, type OpenStores } from './stores.js';
import { openWebhooks } from './webhooks.js';

/** Connections the kernel may hold for the server to accept (Node's default is 511). */
const ACCEPT_BACKLOG = 4096;

export { loadConfig, ConfigError, type ServerConfig } from './config.js';
export { openStores, type OpenStores } from './stores.js';

export interface RunningServer {
  /** Where the server listens, e.g. "http://127.0.0.1:8080" (the real port when PORT was 0). */
  url: string;
  /** Loads a repository's new sidecars into this process's caches (another worker repacked it); failures are logged. */
  warmRepository(info: RepositoryInfo): void;
  /** Stops accepting connections, lets running requests finish (for a while), closes the stores. */
  close(): Promise<void>;
}

export interface StartServerOptions {
  config: ServerConfig;
  logger?: Logger;
  /** How long close() waits for running requests before cutting them off. */
  shutdownGraceMs?: number;
  /**
   * The environment `config` was read from (`gitfleet serve` passes process.env): background
   * maintenance then runs in child processes of the CLI, which read the same configuration from
   * it. Without it (a server embedded in another program), maintenance runs in this process.
   */
  environment?: NodeJS.ProcessEnv;
  /** Sees every request to the stores (tests count them, or inject faults into them). */
  storeInterceptor?: StoreInterceptor;
  /** The slot of a cluster worker: it then owns only its slot's receive spool (see receive-spool.ts). */
  workerSlot?: number;
}

export async function startServer({
  config,
  logger = createLogger(config.logLevel),
  shutdownGraceMs = 10_000,
  environment,
  storeInterceptor,
  workerSlot,
}: StartServerOptions): Promise<RunningServer> {
  const stores = await openStores(config, storeInterceptor);
  const spoolDir = spoolDirectory(config);
  const warm = sidecarWarmer(stores, logger);
  let server: http.Server;
  let webhooks: WebhookService | undefined;
  // Known once listening (PORT=0 picks one); no request arrives before.
  let listeningPort = config.port;
  const indexPool = new PackIndexPool({ threads: config.packIndexing.threads, maxQueue: config.packIndexing.maxQueue });
  let browsing: Browsing | undefined;
  let logins: LoginGuard | undefined;
  let maintenance: MaintenanceScheduler | undefined;
  let placementRepair: PlacementRepairJob | undefined;
  try {
    await mkdir(spoolDir, { recursive: true });
    const receiveSpool = await claimReceiveSpool(spoolDir, workerSlot);
    const accounts = new AccountStore(stores.kv);
    if (config.bootstrapAdmin) await bootstrapAdmin(accounts, config.bootstrapAdmin, logger);
    webhooks = openWebhooks(config, stores, logger);
    logins = new LoginGuard(createLoginThrottle(config), config.passwordChecks, passwordCheckTurns(config.passwordChecks));
    browsing = openBrowsing(config.browse);
    const registry = new RepositoryRegistry(stores);
    maintenance = openMaintenance(config, stores, registry, spoolDir, logger, environment, (info) => {
      warm(info);
      tellOtherWorkers(info);
    });
    placementRepair = await openPlacementRepair(config, stores, logger);
    const services: ServerServices = {
      config,
      registry,
      accounts,
      kv: stores.kv,
      blobs: stores.blobs,
      quotas: new StorageQuotas(registry, stores, new QuotaStore(stores.kv), new LfsObjectRecords(stores.kv)),
      webhooks,
      logins,
      logger,
      spoolDir: receiveSpool,
      indexPool,
      maintenance,
      browsing,
      baseUrl: baseUrlFor(config.publicUrl),
      publicBaseUrl: () => configuredBaseUrl(config, listeningPort),
    };
    const gate = new ConnectionGate(config.connections);
    server = http.createServer(
      {
        headersTimeout: config.timeouts.headersMs,
        requestTimeout: config.timeouts.requestMs,
        // Node checks both timeouts at this interval (30 s by default, which would stretch a 20 s bound to 50 s).
        connectionsCheckingInterval: Math.min(1000, config.timeouts.headersMs),
      },
      gate.guard(refusingGuessesEarly(services, createApp(services))),
    );
    gate.watch(server);
    server.timeout = config.timeouts.idleMs;
    // A flood of connections (thousands of slow clients) must not fill the accept queue: a new
    // client's SYN would be dropped there and retried only a second later, though the connection
    // gate closes what it refuses at once. The kernel caps it at net.core.somaxconn.
    server.listen({ port: config.port, host: config.host, backlog: ACCEPT_BACKLOG });
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([error]) => Promise.reject(error))]);
    listeningPort = (server.address() as AddressInfo).port;
  } catch (error) {
    await webhooks?.close();
    await maintenance?.close();
    await placementRepair?.close();
    await logins?.close();
    await indexPool.close();
    await browsing?.close();
    await stores.close();
    throw error;
  }
  // Password hashing and compression on libuv's pool, and V8's helpers, yield the CPU to the
  // event loop (worker threads lower their own priority as they start).
  lowerHelperThreadsPriority();
  // Deliveries start once the server is up; they stop before the stores close.
  webhooks.start();
  maintenance.start();
  placementRepair?.start();
  server.on('error', (error) => logger.error({ err: error }, 'server error'));
  const url = listeningUrl(server.address() as AddressInfo);

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), shutdownGraceMs);
      await stopped;
      clearTimeout(grace);
      await webhooks.close();
      await maintenance.close();
      await placementRepair?.close();
      await logins.close();
      await indexPool.close();
      await browsing.close();
      await stores.close();
    })();
    return closing;
  };
  return { url, close, warmRepository: warm };
}

/** Loads the new sidecars of a repository a full repack rewrote into this process's caches (warm-sidecars.ts), logging the outcome. */
function sidecarWarmer(stores: OpenStores, logger: Logger): (info: RepositoryInfo) => void {
  return (info) => {
    warmSidecars(new Repository(info, stores)).then(
      () => logger.info({ repo: info.id }, 'loaded the sidecars of a repacked repository'),
      (error: unknown) => logger.warn({ err: error, repo: info.id }, 'loading the sidecars of a repacked repository failed'),
    );
  };
}

/** A worker of the cluster has the primary tell the other workers of a full repack it ran; they warm through warmRepository. */
function tellOtherWorkers(info: RepositoryInfo): void {
  if (ownWorkerSlot() === undefined) return;
  // With a callback, a closed channel (the primary is gone, and the workers end with it) is not an 'error' event.
  process.send?.({ type: 'gitfleet:warm', repository: info } satisfies WarmMessage, undefined, undefined, () => undefined);
}

/** The background maintenance of this process; with maintenance off, one that is told of pushes and does nothing. */
function openMaintenance(
  config: ServerConfig,
  stores: OpenStores,
  registry: RepositoryRegistry,
  spoolDir: string,
  logger: Logger,
  environment: NodeJS.ProcessEnv | undefined,
  onRepacked: (info: RepositoryInfo) => void,
): MaintenanceScheduler {
  const { enabled, concurrency, sweepIntervalMs } = config.maintenance;
  return new MaintenanceScheduler(
    { concurrency, sweepIntervalMs: enabled ? sweepIntervalMs : 0 },
    {
      runner: {
        needed: enabled ? maintenanceCheck(config.maintenance) : async () => 'none',
        run: environment
          ? bySize(maintainInProcess(config.maintenance, spoolDir), (repo, signal) =>
              runMaintenanceChild(repo, signal, { env: environment, logger, maxRunMs: config.maintenance.maxRunMs }),
            )
          : maintainInProcess(config.maintenance, spoolDir),
      },
      open: (info) => new Repository(info, stores),
      listRepositories: () => registry.list(),
      collectFleetGarbage: async (signal) => {
        const graceMs = config.maintenance.graceSeconds * 1000;
        const deleted = await collectDeletedRepositories(registry, stores.blobs, { graceMs, signal });
        if (deleted.collected > 0) logger.info(deleted, 'collected the blobs of deleted repositories');
        const pruned = await pruneJournal(stores.blobs, undefined, signal);
        if (pruned.checkpoints > 0) logger.info(pruned, "pruned the registry journal's old checkpoints");
      },
      sweepClock: kvSweepClock(stores.kv),
      logger,
      onRepacked,
    },
  );
}

/** The fleet's background repair of a placement; undefined (said once) when the blob store is one store or the job is off. */
async function openPlacementRepair(config: ServerConfig, stores: OpenStores, logger: Logger): Promise<PlacementRepairJob | undefined> {
  if (config.blobs.backend !== 'placement' || !stores.placement) {
    logger.info({ backend: config.blobs.backend }, 'placement repair: off, the blob store is a single store');
    return undefined;
  }
  const schedule = config.blobs.repair;
  const layout = stores.placement.layout;
  // At start-up, so that a server configured unlike the fleet says so at once, and `gitfleet repair --cleanup` finds the fleet's layout.
  const refusal = layoutRefusal(layout, await checkFleetLayout(stores.kv, layout, { recordIfAbsent: true }));
  if (refusal) logger.warn({ reason: refusal }, 'placement: layout differs from the fleet; cleanup refused');
  if (schedule.intervalMs <= 0) {
    logger.info('placement repair: background job off (GITFLEET_PLACEMENT_REPAIR_SECONDS=0); `gitfleet repair` still runs it');
    return undefined;
  }
  return new PlacementRepairJob(
    stores.placement,
    stores.kv,
    { ...schedule, cleanupMinAgeMs: config.maintenance.graceSeconds * 1000, holder: `${hostname()}:${process.pid}` },
    logger,
  );
}

function listeningUrl({ address, family, port }: AddressInfo): string {
  return `http://${family === 'IPv6' ? `[${address}]` : address}:${port}`;
}
