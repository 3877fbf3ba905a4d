import type { RedisConnection } from '@gitfleet/storage';
import { deliveryQueueRetry } from '../deliveries/delivery-retry.js';
import { BullmqJobQueue } from './bullmq-job-queue.js';
import type { JobQueue, QueueEvents, RetryPolicy } from './job-queue.js';
import { SqliteJobQueue } from './sqlite-job-queue.js';
import type { DeliveryJob, RefEventsJob } from '../webhook-service.js';

/** Where the webhook queues live: chosen with the KV backend (embedded SQLite, or Redis). */
export type WebhookQueueBackend = { kind: 'sqlite'; path: string } | { kind: 'redis'; connection: RedisConnection; namespace: string };

export interface WebhookQueueSettings {
  /** Retries of one delivery (the receiver's failures). */
  deliveryRetry: RetryPolicy;
  /** Deliveries sent at once by this process. */
  concurrency: number;
  /** Embedded queue: how long a job stays reserved for a worker that stopped renewing it. */
  leaseMs: number;
  /** Embedded queue: how often idle workers look for jobs added by other processes. */
  pollMs: number;
}

/**
 * Expanding a ref transaction fails only when the stores do, and then whether the push
 * committed is unknown: it is tried again every few minutes at most, for as long as a store
 * outage can last (a year of attempts), since the events of a committed push must not be
 * dropped for an outage. Each failed attempt is logged with the entry's age.
 */
const EXPANSION_RETRY: RetryPolicy = { maxAttempts: 100_000, backoffMs: 1_000, maxBackoffMs: 300_000 };
/** Finished jobs are kept a day, so that re-adding one (a re-expanded transaction) is a no-op. */
const RETENTION_MS = 24 * 60 * 60 * 1000;

export function openWebhookQueues(
  backend: WebhookQueueBackend,
  settings: WebhookQueueSettings,
  events: QueueEvents,
): { refEvents: JobQueue<RefEventsJob>; deliveries: JobQueue<DeliveryJob> } {
  const open = <T>(name: string, retry: RetryPolicy, concurrency: number): JobQueue<T> =>
    backend.kind === 'sqlite'
      ? new SqliteJobQueue<T>({
          path: backend.path,
          name,
          retry,
          concurrency,
          leaseMs: settings.leaseMs,
          pollMs: settings.pollMs,
          retentionMs: RETENTION_MS,
          events,
        })
      : new BullmqJobQueue<T>({
          connection: backend.connection,
          // The hash tag keeps every key of the queues in one Cluster slot.
          prefix: `{${backend.namespace}:hooks}`,
          name,
          retry,
          concurrency,
          retentionMs: RETENTION_MS,
          events,
        });
  return {
    refEvents: open<RefEventsJob>('ref-events', EXPANSION_RETRY, 1),
    deliveries: open<DeliveryJob>('deliveries', deliveryQueueRetry(settings.deliveryRetry), settings.concurrency),
  };
}
