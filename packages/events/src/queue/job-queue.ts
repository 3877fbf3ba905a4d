/**
 * A durable work queue shared by every server process: a job added is kept until a worker of
 * some process has finished it; a job is worked on by one worker at a time; a worker that dies
 * mid-job loses it to another after its lease runs out (so a job can run more than once:
 * at-least-once, never lost).
 */
export interface JobQueue<T> {
  /**
   * Adds a job; resolves once it is durably stored. A job whose id is already queued (or was
   * finished within the retention period) is not added again. With `delayMs`, it becomes due
   * only after that long (or when promoted).
   */
  add(id: string, data: T, options?: AddOptions): Promise<void>;
  /**
   * Replaces the data of a job that is waiting (delayed, or due but not yet taken by a worker)
   * and makes it due now. False when the job is running or finished (or was never added). A
   * run that starts just as the job is promoted may still get the former data; its retries,
   * if any, get the new.
   */
  promote(id: string, data: T): Promise<boolean>;
  /** The jobs not finished yet, of every process (read by monitoring). */
  depth(): Promise<QueueDepth>;
  /** Starts `concurrency` workers in this process. */
  work(handler: JobHandler<T>): void;
  /** Stops the workers (waiting for running jobs) and releases the connection. */
  close(): Promise<void>;
}

export interface QueueDepth {
  /** Due now, waiting for a worker. */
  due: number;
  /** Due later: delayed when added, or waiting out a retry's backoff. */
  delayed: number;
  /** Held by a worker. */
  running: number;
}

export interface AddOptions {
  /** How long the job waits before it is due. */
  delayMs?: number;
}

export interface Job<T> {
  id: string;
  data: T;
  /** 1 on the first run, 2 on the first retry… */
  attempt: number;
}

/**
 * Finishes the job by returning. Throwing asks for another attempt after the retry policy's
 * delay, unless the attempts are exhausted or the error is a PermanentJobFailure.
 */
export type JobHandler<T> = (job: Job<T>) => Promise<void>;

/** Thrown by a handler: the job failed for good, retrying cannot help. */
export class PermanentJobFailure extends Error {
  override name = 'PermanentJobFailure';
}

export interface RetryPolicy {
  /** Total runs of a job, the first included. */
  maxAttempts: number;
  /** Delay before the first retry; each later one doubles it… */
  backoffMs: number;
  /** …up to this. */
  maxBackoffMs: number;
}

/** Exponential backoff: the delay after failed attempt `attempt` (1-based), with ±10% jitter so that retries of a burst spread out. */
export function retryDelayMs(policy: RetryPolicy, attempt: number): number {
  const exponential = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** Math.min(attempt - 1, 40));
  return Math.round(exponential * (0.9 + Math.random() * 0.2));
}

export interface QueueEvents {
  /** A job failed for good (attempts exhausted or permanent failure); it is kept as failed. */
  onFailed?(job: Job<unknown>, error: unknown): void;
  /** A job failed and will be tried again. */
  onRetry?(job: Job<unknown>, error: unknown, delayMs: number): void;
}
