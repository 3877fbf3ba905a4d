import cluster from 'node:cluster';
import type { Command } from 'commander';
import { createLogger, type Logger } from '../logger.js';
import type { ServerConfig } from '../config.js';
import type { RunningServer } from '../index.js';
import { isShutdownMessage, isWarmMessage, ownWorkerSlot } from '../cluster/messages.js';
import { MACHINE_TURN_KINDS } from '../cluster/turns.js';
import { configFromEnvironment } from './context.js';
import { EXIT } from './errors.js';
import { MAINTENANCE_STOP_GRACE_MS } from '../maintenance/child-runner.js';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('serve git smart HTTP and the REST API (configured from the environment, see README.md)')
    .action(async () => {
      const config = configFromEnvironment();
      const logger = createLogger(config.logLevel);
      const slot = ownWorkerSlot();
      if (slot !== undefined) await serveAsWorker(config, logger, slot);
      // Under another supervisor's node:cluster (PM2), each of its workers serves alone.
      else if (config.workers > 1 && cluster.isPrimary) await serveAsPrimary(config, logger);
      else await serveAlone(config, logger);
    });
}

/** How long a stopping server lets running requests finish (a clone may take minutes; a deploy should not). */
const SHUTDOWN_GRACE_MS = 10_000;

/** One process serves everything (GITFLEET_WORKERS=1, the default up to two cores). */
async function serveAlone(config: ServerConfig, logger: Logger): Promise<void> {
  // Loaded here: the admin commands need none of the HTTP stack and start faster without it.
  const { startServer } = await import('../index.js');
  const server = await startServer({ config, logger, environment: process.env, shutdownGraceMs: SHUTDOWN_GRACE_MS });
  logger.info({ url: server.url, dataDir: config.dataDir }, 'listening');
  stopOnSignals(logger, () => server.close());
}

/** The cluster's primary: forks the workers and supervises them; it serves no request itself. */
async function serveAsPrimary(config: ServerConfig, logger: Logger): Promise<void> {
  const { startCluster } = await import('../cluster/primary.js');
  const { removeReceiveSpools } = await import('../receive-spool.js');
  const { spoolDirectory } = await import('../stores.js');
  // Before any worker receives a push: what the receive spools hold now, a killed process left.
  await removeReceiveSpools(spoolDirectory(config));
  // A worker's own stop comes first: its requests' grace, then its maintenance child's (which
  // releases its lease), and a margin. Only past all that does the primary kill it.
  const running = await startCluster({
    workers: config.workers,
    logger,
    shutdownGraceMs: SHUTDOWN_GRACE_MS + MAINTENANCE_STOP_GRACE_MS + 5000,
    machineTurns: {
      [MACHINE_TURN_KINDS.passwordChecks]: { turns: config.passwordChecks.concurrent, waiting: config.passwordChecks.queue },
    },
  });
  logger.info({ url: running.url, dataDir: config.dataDir, workers: config.workers }, 'listening');
  stopOnSignals(logger, () => running.close());
}

/** A worker of the cluster: a whole server with its share of the machine's budgets. */
async function serveAsWorker(config: ServerConfig, logger: Logger, index: number): Promise<void> {
  const { startServer } = await import('../index.js');
  const { workerShare } = await import('../cluster/worker-share.js');
  const slot = { index, count: config.workers };
  const workerLogger = logger.child({ worker: index });
  let server: RunningServer;
  try {
    server = await startServer({
      config: workerShare(config, slot),
      logger: workerLogger,
      environment: process.env,
      shutdownGraceMs: SHUTDOWN_GRACE_MS,
      workerSlot: index,
    });
  } catch (error) {
    // The channel to the primary would keep this process alive once the CLI has printed the
    // error: it exits right after (stderr is a pipe, written synchronously).
    setImmediate(() => process.exit(EXIT.failure));
    throw error;
  }
  // Ctrl-C or a signal to the process group reaches the primary and every worker at once, and the
  // primary also tells each worker to stop: only the first request counts. The primary kills a
  // worker that outlasts its grace.
  const stop = stopOnSignals(workerLogger, () => server.close(), { secondSignalExits: false });
  process.on('message', (message) => {
    if (isShutdownMessage(message)) stop();
    if (isWarmMessage(message)) server.warmRepository(message.repository);
  });
  // When the primary is gone (killed, crashed), node:cluster ends this worker itself (exit 0 on
  // the channel's disconnect); its maintenance children are told to stop on the way out.
  process.send?.({ type: 'gitfleet:ready', url: server.url });
}

/**
 * Stops through `close` on SIGTERM or SIGINT (or when the returned function is called), and
 * exits 0 once stopped; a second signal exits at once without waiting for requests, unless
 * told otherwise.
 */
function stopOnSignals(logger: Logger, close: () => Promise<void>, { secondSignalExits = true } = {}): () => void {
  let stopping = false;
  const stop = (signal?: NodeJS.Signals) => {
    if (stopping) {
      if (signal === undefined || !secondSignalExits) return;
      logger.warn({ signal }, 'second signal: exiting without waiting for requests');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return () => stop();
}
