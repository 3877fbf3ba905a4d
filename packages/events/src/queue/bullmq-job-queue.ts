import { Queue, UnrecoverableError, Worker, type Job as BullJob } from 'bullmq';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisConnection } from '@gitfleet/storage';
import {
  PermanentJobFailure,
  retryDelayMs,
  type AddOptions,
  type Job,
  type JobHandler,
  type JobQueue,
  type QueueDepth,
  type QueueEvents,
  type RetryPolicy,
} from './job-queue.js';

export interface BullmqJobQueueOptions {
  connection: RedisConnection;
  /**
   * First part of every key. It carries a hash tag ("{…}") so that all keys of the queue land in
   * one slot of a Redis Cluster, which BullMQ's scripts need.
   */
  prefix: string;
  name: string;
  retry: RetryPolicy;
  concurrency: number;
  /** How long finished jobs stay, so that adding the same id again is ignored. */
  retentionMs: number;
  events?: QueueEvents;
}

/** How long an add waits for Redis's reply. */
const PRODUCER_COMMAND_TIMEOUT_MS = 10_000;

/**
 * The distributed mode's job queue: BullMQ on the same Redis as the KV store. BullMQ gives
 * what the queue contract asks: jobs stored in Redis before add() resolves, one worker per job
 * through a lock that the worker renews, a stalled job (its worker died) handed to another
 * worker, delays and retries.
 */
export class BullmqJobQueue<T> implements JobQueue<T> {
  private readonly queue: Queue;
  private readonly connections: Array<Redis | Cluster> = [];
  private worker?: Worker;

  constructor(private readonly options: BullmqJobQueueOptions) {
    // The producer fails a command quickly when Redis is away or stops answering (a push must
    // not hang on it); the worker's blocking connection must retry forever, as BullMQ requires.
    this.queue = new Queue(options.name, {
      connection: this.connect({ maxRetriesPerRequest: 3, commandTimeout: PRODUCER_COMMAND_TIMEOUT_MS }),
      prefix: options.prefix,
    });
    this.queue.on('error', () => {
      // Reconnection is ioredis's job; add() reports its own failures to its caller.
    });
  }

  async add(id: string, data: T, options: AddOptions = {}): Promise<void> {
    await this.queue.add(this.options.name, data, {
      jobId: id,
      ...(options.delayMs ? { delay: options.delayMs } : {}),
      attempts: this.options.retry.maxAttempts,
      backoff: { type: 'gitfleet' },
      removeOnComplete: { age: Math.ceil(this.options.retentionMs / 1000) },
      removeOnFail: { age: Math.ceil(this.options.retentionMs / 1000) },
    });
  }

  async promote(id: string, data: T): Promise<boolean> {
    const job = await this.queue.getJob(id);
    if (!job) return false;
    const state = await job.getState();
    if (state !== 'delayed' && state !== 'waiting' && state !== 'prioritized') return false;
    // A worker may take the job between these calls and run it with its former data; a failed
    // run is retried with the data read again, so the new data is never lost.
    await job.updateData(data);
    if (state !== 'delayed') return true;
    try {
      await job.promote();
    } catch (error) {
      // Taken by a worker (its delay ran out) in between: it is no longer waiting.
      if ((await job.getState()) === 'delayed') throw error;
    }
    return true;
  }

  async depth(): Promise<QueueDepth> {
    const counts = await this.queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active');
    return { due: (counts.waiting ?? 0) + (counts.prioritized ?? 0), delayed: counts.delayed ?? 0, running: counts.active ?? 0 };
  }

  work(handler: JobHandler<T>): void {
    const { retry, events } = this.options;
    this.worker = new Worker(
      this.options.name,
      async (bullJob: BullJob) => {
        const job = this.toJob(bullJob);
        try {
          await handler(job);
        } catch (error) {
          if (error instanceof PermanentJobFailure) throw new UnrecoverableError(error.message);
          throw error;
        }
      },
      {
        connection: this.connect({ maxRetriesPerRequest: null }),
        prefix: this.options.prefix,
        concurrency: this.options.concurrency,
        // A job whose worker stalled is retried, never failed for stalling: losing a delivery
        // because a process died twice in its middle would break at-least-once.
        maxStalledCount: Number.MAX_SAFE_INTEGER,
        settings: { backoffStrategy: (attemptsMade: number) => retryDelayMs(retry, attemptsMade) },
      },
    );
    this.worker.on('failed', (bullJob, error) => {
      if (!bullJob) return;
      const job = { ...this.toJob(bullJob), attempt: bullJob.attemptsMade };
      const final = error instanceof UnrecoverableError || bullJob.attemptsMade >= retry.maxAttempts;
      if (final) events?.onFailed?.(job, error);
      else events?.onRetry?.(job, error, retryDelayMs(retry, bullJob.attemptsMade));
    });
    this.worker.on('error', (error) => events?.onRetry?.({ id: '(worker)', data: undefined, attempt: 0 }, error, 0));
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
    await Promise.allSettled(this.connections.map((connection) => connection.quit()));
  }

  private toJob(bullJob: BullJob): Job<T> {
    return { id: bullJob.id ?? '', data: bullJob.data as T, attempt: bullJob.attemptsMade + 1 };
  }

  private connect(overrides: RedisOptions): Redis | Cluster {
    const { connection } = this.options;
    let client: Redis | Cluster;
    if ('cluster' in connection) {
      client = new Cluster(connection.cluster, {
        ...connection.options,
        redisOptions: { ...connection.options?.redisOptions, ...overrides },
      });
    } else if ('sentinels' in connection) {
      client = new Redis({ ...connection.options, ...overrides, sentinels: connection.sentinels, name: connection.masterName });
    } else {
      client = new Redis(connection.url, { ...connection.options, ...overrides });
    }
    this.connections.push(client);
    return client;
  }
}
