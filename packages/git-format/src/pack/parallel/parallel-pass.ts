import { Worker } from 'node:worker_threads';
import type { DeltaArena } from '../delta-arena.js';
import type { DeltaForest } from '../delta-forest.js';
import type { EntryTable } from '../entry-table.js';
import type { ExpansionBudget } from '../limits.js';
import type { ObjectSinkSpec } from './object-sink.js';
import type { ResolveThreadData, ResolveThreadResult } from './resolve-thread.js';
import { siblingModule, workerMain } from './thread-modules.js';
import { TreeQueue, failureError, type TreeFailure } from './tree-queue.js';

/**
 * CPU-busy threads the machine can spare now, beyond the caller's own (which waits while the
 * helpers work): `take` returns how many of `wanted` it grants, at once, never waiting.
 */
export interface ThreadBudget {
  take(wanted: number): number;
  giveBack(count: number): void;
}

export interface ParallelPassOptions {
  /** Most helper threads one pack's pass two runs on (the calling thread only waits for them). */
  maxThreads: number;
  /** How helper threads handle the objects they resolve; needed when there is an `onObject`. */
  objectSink?: ObjectSinkSpec;
  /** Threads available on the machine beyond the caller's (default: as many as maxThreads asks). */
  threadBudget?: ThreadBudget;
  /** Packs with fewer deltas are resolved on the calling thread alone: starting helpers costs more than they save. */
  minDeltas?: number;
}

/**
 * Below this many deltas a pack stays on the calling thread. Each helper costs 100-400 ms before
 * it resolves anything (thread start, loading its sink's modules, the JIT warming up again), and
 * pass two with fsck costs about 140 us a delta on one thread (git.git, on a loaded 2-core
 * machine): at 5,000 deltas two helpers took 2.1 s where one thread took 0.8 s, at 16,000 they
 * were even, within the noise. 20,000 deltas is about 3 s of work, where a helper's start-up is
 * small; the pushes of every day (hundreds of objects) never start one.
 */
export const DEFAULT_PARALLEL_MIN_DELTAS = 20_000;

export interface ParallelPassContext {
  packPath: string;
  table: EntryTable;
  deltas: DeltaArena;
  dataEnd: number;
  budget: ExpansionBudget;
  deltaBaseCacheBytes?: number;
}

/**
 * How many helpers the pass two of a pack with `deltaCount` deltas in `trees` trees gets: 0 keeps
 * it on the calling thread, as does 1 (a single helper only adds its start-up). Helpers beyond
 * the first are taken from the budget, the first runs on the caller's share; give them back with
 * `releaseHelpers`.
 */
export function takeHelpers(options: ParallelPassOptions | undefined, deltaCount: number, trees: number, hasOnObject: boolean): number {
  if (options === undefined || (hasOnObject && options.objectSink === undefined)) return 0;
  if (deltaCount < (options.minDeltas ?? DEFAULT_PARALLEL_MIN_DELTAS)) return 0;
  const wanted = Math.min(options.maxThreads, trees) - 1;
  if (wanted < 1) return 0;
  const extra = options.threadBudget === undefined ? wanted : options.threadBudget.take(wanted);
  return extra < 1 ? 0 : extra + 1;
}

export function releaseHelpers(options: ParallelPassOptions, helpers: number): void {
  if (helpers > 1) options.threadBudget?.giveBack(helpers - 1);
}

/**
 * Pass two on several threads, as git's threaded_second_pass: the table, the kept deltas and the
 * expansion budget move to shared memory; `helpers` threads take whole trees from one queue in
 * pack order and hand their objects to their sinks, whose results are returned in helper order;
 * this thread reports progress and waits. The outcome is the one-thread outcome: the same
 * entries resolved, and on failure the error of the earliest failing tree (TreeQueue).
 */
export async function resolveTreesInParallel(
  context: ParallelPassContext,
  sink: ObjectSinkSpec | undefined,
  helpers: number,
  forest: DeltaForest,
  roots: readonly number[],
  progress: (resolved: number) => void,
): Promise<unknown[]> {
  const { table, deltas, budget } = context;
  table.moveToSharedMemory();
  const queue = TreeQueue.create(roots);
  const data: ResolveThreadData = {
    packPath: context.packPath,
    dataEnd: context.dataEnd,
    table: table.parts,
    forest: forest.parts,
    deltas: deltas.share(),
    budget: budget.share(),
    queue: queue.shared,
    deltaBaseCacheBytes: context.deltaBaseCacheBytes,
    sink,
  };
  const ticker = setInterval(() => progress(queue.resolvedDeltas), 250);
  const results = await Promise.allSettled(Array.from({ length: helpers }, () => runHelper(data))).finally(() => clearInterval(ticker));
  progress(queue.resolvedDeltas);

  const answers: ResolveThreadResult[] = [];
  for (const result of results) {
    if (result.status === 'rejected') throw result.reason;
    answers.push(result.value);
  }
  const failures = answers.map((a) => a.failure).filter((f): f is TreeFailure => f !== undefined);
  if (failures.length > 0) throw failureError(failures.reduce((a, b) => (b.order < a.order ? b : a)));
  return answers.map((a) => a.sinkResult);
}

function runHelper(data: ResolveThreadData): Promise<ResolveThreadResult> {
  return new Promise<ResolveThreadResult>((resolve, reject) => {
    const worker = new Worker(resolveThreadMain(), { workerData: data });
    let answer: ResolveThreadResult | undefined;
    worker.once('message', (message: ResolveThreadResult) => (answer = message));
    worker.once('error', (error) => reject(new Error(`pass-two helper thread failed: ${error.message}`, { cause: error })));
    worker.once('exit', (code) => {
      if (answer !== undefined) resolve(answer);
      else reject(new Error(`pass-two helper thread exited with code ${code} before answering`));
    });
  });
}

let resolveThread: URL | undefined;

function resolveThreadMain(): URL {
  resolveThread ??= workerMain(siblingModule(import.meta.url, 'resolve-thread'));
  return resolveThread;
}
