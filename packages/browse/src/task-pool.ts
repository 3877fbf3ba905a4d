import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';

/** Every thread is busy and the queue is full: the caller answers 503 and the client retries later. */
export class PoolBusy extends Error {
  override name = 'PoolBusy';
}

/** A task ran past its hard deadline: its thread was stopped (a worker that ignored its own time bound). */
export class TaskTimedOut extends Error {
  override name = 'TaskTimedOut';
}

/** What a pool tells monitoring: tasks running and waiting for a thread, the threads alive, and how busy they have been (0..1). */
export interface PoolStats {
  running: number;
  queued: number;
  threads: number;
  utilization: number;
}

/** Threads of a pool that is given none: one per core. */
export function defaultPoolThreads(): number {
  return availableParallelism();
}

export interface TaskPoolOptions {
  /** Threads running tasks; 0 or absent: one per core. */
  threads?: number;
  /** Tasks waiting for a thread beyond those running; more are refused with PoolBusy. */
  maxQueue: number;
}

/**
 * An idle thread exits after this long: a quiet server holds no threads, and a busy one does
 * not pay a thread's start (loading the highlighter, the diff library) on every page.
 */
const IDLE_THREAD_MS = 5 * 60_000;

/**
 * CPU work whose cost depends on the input (diffs, highlighting, Markdown) runs here, off the
 * event loop, on a bounded number of threads with a bounded queue: a burst is refused
 * (PoolBusy), never piled up in memory.
 */
export class TaskPool<In, Out> {
  private readonly pool: Piscina<In, Out>;
  readonly threads: number;
  private readonly maxQueue: number;
  /** Tasks submitted and not yet settled: running ones and queued ones, counted here so the bound is exact. */
  private inFlight = 0;

  /**
   * `worker` is the worker module's URL as `import.meta.resolve('./x-worker.js')` gives it: the
   * `.ts` source when running under tsx, the compiled `.js` otherwise. Piscina imports it from
   * its own file, where no TypeScript resolution applies, so a URL written by hand would fit
   * only one of the two.
   */
  constructor(
    private readonly what: string,
    worker: URL,
    options: TaskPoolOptions,
  ) {
    this.threads = options.threads && options.threads > 0 ? options.threads : defaultPoolThreads();
    this.maxQueue = options.maxQueue;
    this.pool = new Piscina<In, Out>({ filename: worker.href, minThreads: 0, maxThreads: this.threads, idleTimeout: IDLE_THREAD_MS });
  }

  /** Runs one task; past `hardTimeoutMs` (queueing included) its thread is stopped and TaskTimedOut thrown. */
  async run(input: In, hardTimeoutMs: number): Promise<Out> {
    if (this.inFlight >= this.threads + this.maxQueue) {
      throw new PoolBusy(`${this.what}: all ${this.threads} threads are busy and ${this.maxQueue} tasks wait; try again shortly`);
    }
    this.inFlight++;
    try {
      return await this.pool.run(input, { signal: AbortSignal.timeout(Math.ceil(hardTimeoutMs)) });
    } catch (error) {
      if ((error as Error).name === 'AbortError')
        throw new TaskTimedOut(`${this.what}: a task ran over ${Math.ceil(hardTimeoutMs)} ms and was stopped`, { cause: error });
      throw error;
    } finally {
      this.inFlight--;
    }
  }

  stats(): PoolStats {
    const queued = this.pool.queueSize;
    return { running: this.inFlight - queued, queued, threads: this.pool.threads.length, utilization: this.pool.utilization };
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}

/** A view of a larger buffer (a cached block) would be copied whole to a thread: copy the view alone. */
export function ownBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length ? bytes : bytes.slice();
}
