import type { DeadLetter } from '../deliveries/dead-letters.js';
import type { DeliveryAttempt } from '../deliveries/delivery-log.js';
import type { Hook, HookTarget } from './hook.js';

/** Where a hook lives in the REST API, e.g. `<base>/api/v1/repos/o/r/hooks/7`. */
export function hookApiUrl(baseUrl: string, target: HookTarget, id: number): string {
  const base = baseUrl.replace(/\/+$/, '');
  const owner = encodeURIComponent(target.owner);
  const parent =
    target.kind === 'repository' ? `${base}/api/v1/repos/${owner}/${encodeURIComponent(target.name)}` : `${base}/api/v1/orgs/${owner}`;
  return `${parent}/hooks/${id}`;
}

/**
 * A hook in GitHub's REST shape (which Gitea's clients also read: id, active, events, config,
 * created_at, updated_at), plus Gitea's branch_filter. The secret is never shown.
 */
export function hookJson(hook: Hook, baseUrl: string) {
  const url = hookApiUrl(baseUrl, hook.target, hook.id);
  const config: Record<string, string> = {
    url: hook.config.url,
    content_type: hook.config.contentType,
    insecure_ssl: hook.config.insecureSsl ? '1' : '0',
  };
  if (hook.config.secret !== '') config.secret = '********';
  return {
    type: hook.target.kind === 'repository' ? 'Repository' : 'Organization',
    id: hook.id,
    name: 'web',
    active: hook.active,
    events: hook.events,
    config,
    branch_filter: hook.branchFilter,
    updated_at: hook.updatedAt,
    created_at: hook.createdAt,
    url,
    test_url: `${url}/test`,
    ping_url: `${url}/pings`,
    deliveries_url: `${url}/deliveries`,
    last_response: hook.lastResponse,
    ...(hook.disabledReason ? { disabled_reason: hook.disabledReason } : {}),
  };
}

/** A row of GitHub's "list deliveries for a hook". */
export function deliverySummaryJson(attempt: DeliveryAttempt) {
  return {
    id: attempt.id,
    guid: attempt.guid,
    delivered_at: attempt.deliveredAt,
    redelivery: attempt.redelivery,
    duration: attempt.durationMs / 1000,
    status: attempt.status,
    status_code: attempt.statusCode ?? 0,
    event: attempt.event,
    action: attempt.action,
    installation_id: null,
    repository_id: attempt.repositoryId,
    throttled_at: null,
    attempt: attempt.attempt,
  };
}

/** GitHub's "get a delivery for a hook": the summary with the request and response. */
export function deliveryJson(attempt: DeliveryAttempt) {
  let payload: unknown = attempt.request.body;
  try {
    payload = JSON.parse(requestPayload(attempt));
  } catch {
    // A body that is not JSON is shown as the text it was.
  }
  return {
    ...deliverySummaryJson(attempt),
    url: attempt.url,
    request: { headers: attempt.request.headers, payload },
    response: { headers: attempt.response.headers, payload: attempt.response.body, truncated: attempt.response.truncated },
  };
}

/**
 * A row of a hook's dead letters (GitHub has no such list): the delivery's guid and event, when
 * and why it failed for good, and `delivery_id`, its last attempt in the delivery log (null when
 * none was made; it may have left the log since).
 */
export function deadLetterSummaryJson(letter: DeadLetter) {
  return {
    guid: letter.guid,
    event: letter.event,
    action: letter.action,
    repository_id: letter.repositoryId,
    failed_at: letter.failedAt,
    reason: letter.reason,
    attempts: letter.attempts,
    delivery_id: letter.lastAttemptId,
  };
}

/** One dead letter with the payload a replay sends. */
export function deadLetterJson(letter: DeadLetter) {
  let payload: unknown = letter.payload;
  try {
    payload = JSON.parse(letter.payload);
  } catch {
    // Shown as the text it is.
  }
  return { ...deadLetterSummaryJson(letter), payload };
}

/** The JSON text an attempt carried, whatever the content type it was sent as. */
export function requestPayload(attempt: DeliveryAttempt): string {
  const { body } = attempt.request;
  return body.startsWith('payload=') ? decodeURIComponent(body.slice('payload='.length)) : body;
}
