import { createHmac } from 'node:crypto';
import type { ContentType, DeliveryEvent } from '../hooks/hook.js';

export const USER_AGENT = 'Gitfleet-Hookshot/0.1.0';

export interface SignedRequest {
  headers: Record<string, string>;
  body: string;
}

/**
 * The request body and headers of one delivery, in both dialects at once: GitHub's
 * (X-GitHub-*, X-Hub-Signature-256 as "sha256=<hex>" and the legacy sha1 X-Hub-Signature) and
 * Gitea's (X-Gitea-*, X-Gitea-Signature as bare hex of the sha256 HMAC). Signatures cover the
 * exact bytes sent, so a form-encoded body is signed encoded, as GitHub does.
 */
export function signedRequest(options: {
  event: DeliveryEvent;
  guid: string;
  hookId: number;
  /** The payload as JSON text. */
  payload: string;
  contentType: ContentType;
  secret: string;
}): SignedRequest {
  const body = options.contentType === 'json' ? options.payload : `payload=${encodeURIComponent(options.payload)}`;
  const headers: Record<string, string> = {
    'Content-Type': options.contentType === 'json' ? 'application/json' : 'application/x-www-form-urlencoded',
    'User-Agent': USER_AGENT,
    'X-GitHub-Event': options.event,
    'X-GitHub-Delivery': options.guid,
    'X-GitHub-Hook-ID': String(options.hookId),
    'X-Gitea-Event': options.event,
    'X-Gitea-Event-Type': options.event,
    'X-Gitea-Delivery': options.guid,
    'X-Gitea-Hook-ID': String(options.hookId),
  };
  if (options.secret !== '') {
    const sha256 = createHmac('sha256', options.secret).update(body).digest('hex');
    headers['X-Hub-Signature-256'] = `sha256=${sha256}`;
    headers['X-Hub-Signature'] = `sha1=${createHmac('sha1', options.secret).update(body).digest('hex')}`;
    headers['X-Gitea-Signature'] = sha256;
  }
  return { headers, body };
}
