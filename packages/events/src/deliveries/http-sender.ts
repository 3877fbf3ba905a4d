import http, { STATUS_CODES, type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { HookTargetRefused, type HookTargetPolicy } from './target-policy.js';

export interface SendOptions {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** The whole exchange — connect, send, response headers and the kept part of the body. */
  timeoutMs: number;
  insecureSsl: boolean;
  /** Response body bytes kept for the log; the rest is discarded. */
  maxResponseBytes: number;
  /** Which addresses the connection may go to (checked on the address it connects to). */
  policy: HookTargetPolicy;
}

export interface SendResult {
  /** null when no response came. */
  statusCode: number | null;
  /** The status text, or what went wrong. */
  status: string;
  headers: Record<string, string>;
  body: string;
  truncated: boolean;
  durationMs: number;
  /** Worth another attempt later: a timeout, a connection failure or a 5xx. */
  retryable: boolean;
}

/**
 * One POST of a delivery. Never throws: every outcome is a result for the log. Redirects are
 * not followed (as GitHub does not): a 3xx is an answer like any other non-2xx. A target the
 * policy refuses fails for good (no retry): the address, not the moment, is the problem.
 */
export function sendDelivery(options: SendOptions): Promise<SendResult> {
  const started = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e6;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: Omit<SendResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      resolve({ ...result, durationMs: elapsed() });
    };
    const failure = (status: string, retryable = true) =>
      finish({ statusCode: null, status, headers: {}, body: '', truncated: false, retryable });
    const refusedBeforeSending = (status: string) =>
      resolve({ statusCode: null, status, headers: {}, body: '', truncated: false, retryable: false, durationMs: 0 });

    let url: URL;
    try {
      url = new URL(options.url);
      options.policy.checkLiteralHost(options.url);
    } catch (error) {
      refusedBeforeSending(error instanceof HookTargetRefused ? `refused: ${error.message}` : `invalid URL ${options.url}`);
      return;
    }
    const body = Buffer.from(options.body);
    const transport = url.protocol === 'https:' ? https : http;
    const request = transport.request(url, {
      method: 'POST',
      headers: { ...options.headers, 'Content-Length': String(body.length) },
      // A fresh connection per delivery: a pooled socket the receiver has closed would turn a
      // good delivery into a spurious failure.
      agent: false,
      lookup: options.policy.lookup,
      ...(url.protocol === 'https:' ? { rejectUnauthorized: !options.insecureSsl } : {}),
    });
    const timer = setTimeout(() => failure(`timed out after ${options.timeoutMs} ms`), options.timeoutMs);
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (error instanceof HookTargetRefused) failure(`refused: ${error.message}`, false);
      else failure(error.code ? `${error.code}: ${error.message}` : error.message);
    });
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      let truncated = false;
      const done = () => {
        const statusCode = response.statusCode ?? 0;
        finish({
          statusCode,
          status: response.statusMessage || STATUS_CODES[statusCode] || String(statusCode),
          headers: flattenHeaders(response.headers),
          body: Buffer.concat(chunks).toString('utf8'),
          truncated,
          retryable: statusCode >= 500,
        });
      };
      response.on('data', (chunk: Buffer) => {
        const room = options.maxResponseBytes - kept;
        if (chunk.length > room) truncated = true;
        if (room > 0) {
          chunks.push(chunk.subarray(0, room));
          kept += Math.min(room, chunk.length);
        }
        // Enough kept: the answer is known; the rest of a large body is not worth waiting for.
        if (truncated) done();
      });
      response.on('end', done);
      response.on('error', done);
    });
    request.end(body);
  });
}

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
