/**
 * Events of committed ref transactions → webhook deliveries: hooks and their delivery log in
 * the KV store, payloads in GitHub's shapes, a durable queue, signed and retried deliveries;
 * and the commit statuses that CI reports (which raise `status` events).
 */
export * from './payloads/index.js';
export * from './hooks/hook.js';
export * from './hooks/branch-filter.js';
export * from './hooks/branch-filter-decisions.js';
export { HookStore, hookScope, hookScopes } from './hooks/hook-store.js';
export { hookJson, hookApiUrl, deliveryJson, deliverySummaryJson, deadLetterJson, deadLetterSummaryJson } from './hooks/hook-json.js';
export {
  StatusStore,
  StatusLimitReached,
  StatusesBusy,
  STATUSES_PER_CONTEXT,
  statusesScope,
  type StatusFields,
  type StatusLimits,
} from './statuses/status-store.js';
export { combinedState } from './statuses/combined-state.js';
export { DeliveryLog, type DeliveryAttempt } from './deliveries/delivery-log.js';
export { DeadLetters, type DeadLetter, type DeadLetterChange, type DeadLetterPage } from './deliveries/dead-letters.js';
export {
  MIN_FENCE_AGE_MS,
  mayFenceNow,
  settleRefTransaction,
  type JournalLookup,
  type RecordedTransaction,
  type Settlement,
} from './outbox/settle-transaction.js';
export { signedRequest, USER_AGENT, type SignedRequest } from './deliveries/signing.js';
export { sendDelivery, type SendOptions, type SendResult } from './deliveries/http-sender.js';
export * from './deliveries/target-policy.js';
export { BOOKKEEPING_ATTEMPTS, deliveryQueueRetry } from './deliveries/delivery-retry.js';
export * from './queue/job-queue.js';
export { SqliteJobQueue, type SqliteJobQueueOptions } from './queue/sqlite-job-queue.js';
export { BullmqJobQueue, type BullmqJobQueueOptions } from './queue/bullmq-job-queue.js';
export { openWebhookQueues, type WebhookQueueBackend, type WebhookQueueSettings } from './queue/open-queues.js';
export * from './webhook-service.js';
export { clearScope } from './clear-scope.js';
