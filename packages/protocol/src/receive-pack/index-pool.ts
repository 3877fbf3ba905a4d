import { availableParallelism } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { IndexWorkCapReached, type GitObject, type ObjectId, type PackInMemory } from '@gitfleet/git-format';
import type { IndexTask, ReadAnswer, WorkerMessage } from './index-worker.js';
import { checkPack, type IndexOutcome } from './pack-check.js';
import type { SpooledPack } from './spool.js';
import { fromThread } from './thread-errors.js';
import { ThreadTokens } from './thread-tokens.js';

/** Threads indexing at once when PackIndexPoolOptions.threads is not given: every core. */
export function defaultIndexThreads(): number {
  return availableParallelism();
}

export interface PackIndexPoolOptions {
  /**
   * Threads indexing at once, those resolving one large push's deltas together included
   * (default: every core). Each push runs on one; a push with many deltas borrows spare ones.
   */
  threads?: number;
  /** Most threads one push's delta resolution runs on (default: the threads, at most 4, as git's index-pack). */
  resolveThreadsPerPush?: number;
  /** Pushes with fewer deltas are resolved on their own thread alone (default: git-format's DEFAULT_PARALLEL_MIN_DELTAS). */
  parallelMinDeltas?: number;
  /** Pushes waiting for a thread beyond those; past it a push is refused as busy (default 16 per thread: a waiting push holds only its spooled pack and its connection). */
  maxQueue?: number;
  /**
   * Bytes of expansion (IndexPackOptions.workCap) a pack may ask for and still be checked on the
   * event loop, without a thread (default INLINE_WORK_BYTES; 0: every pack goes to a thread).
   */
  inlineWorkBytes?: number;
}

/**
 * A push of a few commits: checked where it arrives, a millisecond or two of the event loop at
 * most. Handing it to a thread costs more than that (a wake-up, a message each way, a thread
 * that runs below the event loops' priority): with 16 clients each pushing one commit at a
 * time on two cores, checking here saved about 1 ms of user CPU per push (6.5 to 5.6 ms).
 */
const INLINE_WORK_BYTES = 1 << 20;

/** Packs checked so far, by where (PackIndexPool.stats). */
export interface PackChecks {
  eventLoop: number;
  thread: number;
  /** Those that asked for more work than the inline cap: tried on the event loop, checked on a thread. */
  overInlineCap: number;
}

/** Every index thread is busy and the queue is full: the push is refused, to be retried. */
export class IndexPoolBusy extends Error {
  constructor() {
    super('the server is indexing too many pushes, try again later');
    this.name = 'IndexPoolBusy';
  }
}

export interface IndexRequest extends Omit<IndexTask, 'pack' | 'port' | 'resolveThreads' | 'threadTokens' | 'parallelMinDeltas'> {
  /** One larger than the inline work cap goes straight to a thread; one held in memory is written to its path first. */
  pack: SpooledPack;
  /** Objects of the repository the worker asks for (a thin pack's bases, .gitmodules blobs). */
  readObject(oid: ObjectId): Promise<GitObject | undefined>;
  onProgress?(phase: 'receiving' | 'resolving', done: number, total: number): void;
}

/**
 * Runs pack indexing (pack-check.ts) on a bounded pool of worker threads (index-worker.ts), so
 * that the event loop never inflates, resolves or hashes more of a pushed pack than the inline
 * work cap, whatever the pack holds. A pack within the cap is checked on the event loop; one
 * that asks for more stops before writing anything and goes to a thread. One MessageChannel
 * per threaded push carries the worker's object requests and progress.
 */
export class PackIndexPool {
  private readonly pool: Piscina<IndexTask, IndexOutcome>;
  /** Pushes running or waiting at most. */
  private readonly capacity: number;
  private admitted = 0;
  private readonly tokens: ThreadTokens;
  private readonly resolveThreads: number;
  private readonly parallelMinDeltas: number | undefined;
  private readonly inlineWorkBytes: number;
  /** Packs checked on the event loop and on threads so far, and those that went to a thread over the inline cap. */
  private readonly checks: PackChecks = { eventLoop: 0, thread: 0, overInlineCap: 0 };

  constructor(options: PackIndexPoolOptions = {}) {
    const threads = options.threads ?? defaultIndexThreads();
    this.tokens = ThreadTokens.create(threads);
    this.resolveThreads = Math.min(options.resolveThreadsPerPush ?? MAX_RESOLVE_THREADS, threads);
    this.parallelMinDeltas = options.parallelMinDeltas;
    this.inlineWorkBytes = options.inlineWorkBytes ?? INLINE_WORK_BYTES;
    const maxQueue = options.maxQueue ?? 16 * threads;
    this.capacity = threads + maxQueue;
    this.pool = new Piscina({
      // Resolved, not written out: index-worker.ts under tsx, index-worker.js when compiled.
      filename: import.meta.resolve('./index-worker.js'),
      minThreads: 0,
      maxThreads: threads,
      maxQueue,
      // Idle threads go away: a server that receives no push keeps none, and tests may exit.
      idleTimeout: 30_000,
    });
  }

  async index(request: IndexRequest): Promise<IndexOutcome> {
    const { pack } = request;
    if (pack.size <= this.inlineWorkBytes) {
      const outcome = await this.indexInline(request, pack.inMemory ?? pack.path);
      if (outcome !== undefined) return outcome;
    }
    return this.indexOnThread(request);
  }

  /** The outcome, or undefined when the pack asked for more work than the inline cap. */
  private async indexInline(request: IndexRequest, pack: string | PackInMemory): Promise<IndexOutcome | undefined> {
    const { readObject, onProgress, pack: _, ...task } = request;
    try {
      const outcome = await checkPack({ ...task, pack }, { read: readObject }, { onProgress, workCap: this.inlineWorkBytes });
      this.checks.eventLoop++;
      return outcome;
    } catch (error) {
      if (!(error instanceof IndexWorkCapReached)) throw error;
      this.checks.overInlineCap++;
      return undefined;
    }
  }

  /** A pack held in memory is written to its path once admitted: a refused push writes nothing. */
  private async indexOnThread(request: IndexRequest): Promise<IndexOutcome> {
    if (this.admitted >= this.capacity) throw new IndexPoolBusy();
    this.admitted++;
    const { readObject, onProgress, pack, ...task } = request;
    const { port1, port2 } = new MessageChannel();
    // Only its message crosses to the worker: the indexing's failure gets it back as its cause,
    // so that a store's typed error (a timeout, say) is still seen as such by the caller.
    let readFailure: unknown;
    port1.on('message', (message: WorkerMessage) => {
      if (message.kind === 'progress') {
        onProgress?.(message.phase, message.done, message.total);
        return;
      }
      readObject(message.oid).then(
        (object) => port1.postMessage({ id: message.id, object } satisfies ReadAnswer),
        (error: unknown) => {
          readFailure ??= error;
          port1.postMessage({ id: message.id, error: (error as Error).message ?? String(error) } satisfies ReadAnswer);
        },
      );
    });
    try {
      await pack.spill();
      // Helpers of another push may hold every token: a push waits here, not on piscina's queue.
      await this.tokens.acquire();
      try {
        const { resolveThreads, parallelMinDeltas } = this;
        const run = { ...task, pack: pack.path, port: port2, resolveThreads, parallelMinDeltas, threadTokens: this.tokens.cells };
        const outcome = await this.pool.run(run, { transferList: [port2] });
        this.checks.thread++;
        return outcome;
      } catch (error) {
        if (readFailure !== undefined && error instanceof Error && error.cause === undefined) error.cause = readFailure;
        throw fromThread(error);
      } finally {
        this.tokens.giveBack(1);
      }
    } finally {
      this.admitted--;
      port1.close();
    }
  }

  /**
   * Pushes being indexed on threads and waiting for one, the threads alive and how busy they have
   * been, and where packs were checked (read by monitoring).
   */
  stats(): { running: number; queued: number; threads: number; utilization: number; checks: PackChecks } {
    const queued = this.pool.queueSize;
    return {
      running: this.admitted - queued,
      queued,
      threads: this.pool.threads.length,
      utilization: this.pool.utilization,
      checks: { ...this.checks },
    };
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}

/** git's index-pack caps its threads at 3 by default (more rarely pays off); one more, for a machine that has them. */
const MAX_RESOLVE_THREADS = 4;

let shared: PackIndexPool | undefined;

/** The pool of callers that bring none (tests, tools); the server sizes and closes its own. */
export function sharedPackIndexPool(): PackIndexPool {
  shared ??= new PackIndexPool();
  return shared;
}
