import type { RetryPolicy } from '../queue/job-queue.js';

/**
 * Queue attempts a delivery gets beyond its retry policy. The policy's last attempt sends, and
 * when it fails for good, records the attempt, counts the failure and writes the dead letter;
 * a store error in that bookkeeping would otherwise end the job with the event in no list at
 * all. The extra attempts send nothing: they only write the dead letter (WebhookService.deliver).
 */
export const BOOKKEEPING_ATTEMPTS = 3;

/** The retry policy of the deliveries queue: the delivery's own, plus the bookkeeping attempts. */
export function deliveryQueueRetry(policy: RetryPolicy): RetryPolicy {
  return { ...policy, maxAttempts: policy.maxAttempts + BOOKKEEPING_ATTEMPTS };
}
