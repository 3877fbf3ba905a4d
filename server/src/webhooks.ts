import path from 'node:path';
import { AccountStore } from '@gitfleet/accounts';
import { Repository, type Stores } from '@gitfleet/repository';
import { HookTargetPolicy, openWebhookQueues, WebhookService, type WebhookQueueBackend } from '@gitfleet/events';
import type { ServerConfig } from './config.js';
import type { Logger } from './logger.js';
import { countDeadLetters } from './metrics/queues.js';
import { redisConnection } from './stores.js';

/**
 * The webhook service of this process, its queues beside the KV store: a SQLite file in the
 * data directory in the embedded mode, BullMQ on the KV's Redis in the distributed one. Every
 * process that shares the stores shares the queues, and any of them delivers.
 */
export function openWebhooks(config: ServerConfig, stores: Stores, logger: Logger): WebhookService {
  const hooks = config.hooks;
  const backend: WebhookQueueBackend =
    config.kv.backend === 'redis'
      ? { kind: 'redis', connection: redisConnection(config.kv), namespace: config.kv.namespace }
      : { kind: 'sqlite', path: path.join(config.dataDir, 'webhook-queue.sqlite') };
  const queues = openWebhookQueues(
    backend,
    {
      deliveryRetry: { maxAttempts: hooks.maxAttempts, backoffMs: hooks.backoffMs, maxBackoffMs: hooks.maxBackoffMs },
      concurrency: hooks.concurrency,
      leaseMs: hooks.leaseMs,
      pollMs: hooks.pollMs,
    },
    {
      onRetry: (job, error, delayMs) =>
        logger.info(
          { job: job.id, attempt: job.attempt, delay_ms: delayMs, reason: (error as Error).message },
          'webhook job will be retried',
        ),
      onFailed: (job, error) =>
        logger.warn({ job: job.id, attempt: job.attempt, reason: (error as Error).message }, 'webhook job failed for good'),
    },
  );
  const accounts = new AccountStore(stores.kv);
  return new WebhookService({
    kv: stores.kv,
    ...queues,
    repository: (info) => new Repository(info, stores),
    ownerId: async (name) => {
      const owner = await accounts.getOwner(name);
      return owner?.kind === 'user' ? owner.user.id : owner?.org.id;
    },
    targets: new HookTargetPolicy({ allowed: hooks.allowedNetworks }),
    settings: {
      recoveryDelayMs: hooks.recoveryDelayMs,
      minFenceAgeMs: hooks.minFenceAgeMs,
      timeoutMs: hooks.timeoutMs,
      retry: { maxAttempts: hooks.maxAttempts, backoffMs: hooks.backoffMs, maxBackoffMs: hooks.maxBackoffMs },
      disableAfter: hooks.disableAfter,
      keepAttempts: hooks.keepAttempts,
      keepDeadLetters: hooks.keepDeadLetters,
      maxResponseBytes: 64 * 1024,
      hookLimits: { branchFilter: hooks.branchFilter },
      maxHooksPerTarget: hooks.maxHooksPerTarget,
      payloadLimits: hooks.payload,
      branchFilterStepsPerPush: hooks.branchFilterStepsPerPush,
    },
    logger,
    onDeadLetter: countDeadLetters,
  });
}
