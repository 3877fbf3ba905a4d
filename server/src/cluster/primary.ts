import cluster, { type Worker } from 'node:cluster';
import { RateLimiterClusterMaster } from 'rate-limiter-flexible';
import type { Logger } from '../logger.js';
import { answerMetricsRequestsInPrimary } from '../metrics/cluster.js';
import { grantTurnsInPrimary, type TurnLimits } from './turns.js';
import { workerMallocEnv } from './malloc-arenas.js';
import { workerHeapOptions } from './worker-heap.js';
import { isReadyMessage, isWarmMessage, SHUTDOWN_MESSAGE, WORKER_SLOT_VARIABLE } from './messages.js';

export interface ClusterOptions {
  workers: number;
  logger: Logger;
  /** How long close() lets workers finish their requests before they are killed. */
  shutdownGraceMs: number;
  /** Kind of work (MACHINE_TURN_KINDS) → how many at once on the whole machine. */
  machineTurns: Record<string, TurnLimits>;
}

export interface RunningCluster {
  /** Where the workers listen, e.g. "http://127.0.0.1:8080". */
  url: string;
  /** Tells every worker to stop (they finish their requests), and resolves once all have exited. */
  close(): Promise<void>;
}

/** A worker that lived at least this long before it died is replaced at once; one that died sooner, after a growing delay. */
const STABLE_AFTER_MS = 10_000;
const FIRST_RESTART_DELAY_MS = 1000;
const MAX_RESTART_DELAY_MS = 30_000;

/**
 * The cluster's primary: it serves nothing itself (it never opens the stores). It forks one
 * worker per slot, each a whole server on the same port, replaces a worker that dies, holds the
 * login throttle that the workers share on the embedded backend, grants the turns of work bounded
 * for the machine (password checks), answers their requests for the machine's metrics, and stops
 * them all on close().
 *
 * Start-up fails as a whole: if a worker exits before every worker listens, the others are
 * stopped and the error is thrown, as a single process that cannot start would exit.
 */
export async function startCluster({ workers, logger, shutdownGraceMs, machineTurns }: ClusterOptions): Promise<RunningCluster> {
  // The workers accept on the shared socket themselves, rather than the primary accepting every
  // connection and passing it on (node's default on Linux). A worker busy with a burst does not
  // accept, so an idle one takes the next connection: under 200 simultaneous sign-in attempts
  // /healthz answered in 20–60 ms (p99) this way, 120–280 ms with the primary in the path.
  // NODE_CLUSTER_SCHED_POLICY=rr still chooses node's default.
  if (process.env.NODE_CLUSTER_SCHED_POLICY === undefined) cluster.schedulingPolicy = cluster.SCHED_NONE;
  cluster.setupPrimary({ execArgv: [...process.execArgv, ...workerHeapOptions(process.execArgv)] });
  new RateLimiterClusterMaster();
  answerMetricsRequestsInPrimary();
  grantTurnsInPrimary(machineTurns);
  /** The workers alive, with their slot and when they were forked. */
  const workersAlive = new Map<Worker, { slot: number; forkedAt: number }>();
  let stopping = false;

  // A message sent to a worker as it dies (a throttle answer, a metrics request) fails on its
  // channel; unheard, that error would end the primary and every worker with it.
  cluster.on('fork', (worker) =>
    worker.on('error', (error) => logger.warn({ slot: workersAlive.get(worker)?.slot, err: error }, 'worker channel error')),
  );
  const fork = (slot: number): Worker => {
    const worker = cluster.fork({ ...workerMallocEnv(process.env), [WORKER_SLOT_VARIABLE]: String(slot) });
    workersAlive.set(worker, { slot, forkedAt: Date.now() });
    return worker;
  };
  cluster.on('message', (worker, message) => {
    if (isReadyMessage(message)) logger.info({ slot: workersAlive.get(worker)?.slot, worker_pid: worker.process.pid }, 'worker started');
    // The worker that ran the repack has warmed itself: the others are told.
    if (isWarmMessage(message)) {
      for (const other of workersAlive.keys()) if (other !== worker && other.isConnected()) other.send(message);
    }
  });

  // One worker after another: the first opens (and on a new data directory creates) the stores
  // alone. Several processes creating the same SQLite files at once can be refused with
  // "database is locked" before any busy timeout applies.
  const everyoneReady = new Promise<string>((resolve, reject) => {
    let ready = 0;
    const onMessage = (worker: Worker, message: unknown) => {
      if (!workersAlive.has(worker) || !isReadyMessage(message)) return;
      ready += 1;
      if (ready < workers) {
        fork(ready);
        return;
      }
      cluster.off('message', onMessage);
      cluster.off('exit', onEarlyExit);
      resolve(message.url);
    };
    const onEarlyExit = (worker: Worker, code: number | null, signal: string | null) => {
      cluster.off('message', onMessage);
      cluster.off('exit', onEarlyExit);
      reject(
        new WorkerStartFailed(
          `worker ${workersAlive.get(worker)?.slot} (pid ${worker.process.pid}) exited during start-up (${describeExit(code, signal)}; its error is above)`,
        ),
      );
    };
    cluster.on('message', onMessage);
    cluster.on('exit', onEarlyExit);
  });
  fork(0);

  let url: string;
  try {
    url = await everyoneReady;
  } catch (error) {
    stopping = true;
    await stopAll([...workersAlive.keys()], 0);
    throw error;
  }
  logger.info({ workers, worker_pids: [...workersAlive.keys()].map((worker) => worker.process.pid) }, 'workers listening');

  const restartDelays = new Map<number, number>();
  cluster.on('exit', (worker, code, signal) => {
    const alive = workersAlive.get(worker);
    if (alive === undefined) return;
    workersAlive.delete(worker);
    if (stopping) return;
    const { slot, forkedAt } = alive;
    const lived = Date.now() - forkedAt;
    const previous = restartDelays.get(slot);
    const delay = lived >= STABLE_AFTER_MS ? 0 : Math.min(MAX_RESTART_DELAY_MS, previous ? previous * 2 : FIRST_RESTART_DELAY_MS);
    restartDelays.set(slot, delay);
    logger.error(
      { slot, worker_pid: worker.process.pid, exit: describeExit(code, signal), restart_in_ms: delay },
      'worker died; starting another',
    );
    // Not unref'd: with every worker dead, this timer is what keeps the primary alive.
    setTimeout(() => {
      if (!stopping) fork(slot);
    }, delay);
  });

  let closing: Promise<void> | undefined;
  return {
    url,
    close() {
      stopping = true;
      closing ??= stopAll([...workersAlive.keys()], shutdownGraceMs);
      return closing;
    },
  };
}

/** Asks each worker to stop, and kills those still running after the grace. */
async function stopAll(workers: Worker[], graceMs: number): Promise<void> {
  const exits = workers.map((worker) =>
    worker.isDead() ? Promise.resolve() : new Promise<void>((resolve) => worker.once('exit', () => resolve())),
  );
  for (const worker of workers) {
    if (worker.isConnected()) worker.send(SHUTDOWN_MESSAGE);
    else worker.process.kill('SIGTERM');
  }
  const kill = setTimeout(() => workers.forEach((worker) => worker.isDead() || worker.process.kill('SIGKILL')), graceMs);
  await Promise.all(exits);
  clearTimeout(kill);
}

/** A worker could not start: its own error says why, so this one needs no stack (the CLI prints the message of an error with a code). */
class WorkerStartFailed extends Error {
  override name = 'WorkerStartFailed';
  readonly code = 'EWORKERSTART';
}

function describeExit(code: number | null, signal: string | null): string {
  return signal ? `signal ${signal}` : `code ${code}`;
}
