import http from 'node:http';
import { Readable } from 'node:stream';
import { performance } from 'node:perf_hooks';

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | string | Readable;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Connect from this local address (another 127.x address looks like another client to the server). */
  localAddress?: string;
  /** Body bytes kept in the answer; the rest is read and counted, not kept (a /raw of hundreds of MiB). */
  keepBytes?: number;
}

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The first keepBytes of the body. */
  body: Buffer;
  bodyBytes: number;
  ms: number;
}

const DEFAULT_KEEP_BYTES = 1 << 20;

/**
 * One HTTP request on a connection of its own, as a new client would open it: fetch() would
 * pool connections (hiding a server that stops accepting new ones) and refuses to set Host.
 */
export function request(url: string, options: HttpOptions): Promise<HttpAnswer> {
  const keep = options.keepBytes ?? DEFAULT_KEEP_BYTES;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return reject(new Error('aborted'));
    const req = http.request(url, {
      method: options.method ?? 'GET',
      headers: options.headers,
      agent: false,
      localAddress: options.localAddress,
    });
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      req.destroy();
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error(`no answer within ${(options.timeoutMs / 1000).toFixed(0)} s`)), options.timeoutMs);
    const onAbort = () => fail(new Error('aborted'));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (error) => fail(error));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      let total = 0;
      res.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (kept < keep) {
          chunks.push(chunk.subarray(0, keep - kept));
          kept += Math.min(chunk.length, keep - kept);
        }
      });
      res.on('error', (error) => fail(error));
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          bodyBytes: total,
          ms: performance.now() - started,
        });
      });
    });
    const body = options.body;
    if (body instanceof Readable) {
      body.on('error', (error) => fail(error));
      body.pipe(req);
    } else {
      req.end(body);
    }
  });
}

/** An error as a short phrase for the results table: the errno when there is one. */
export function describeError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code) return code;
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0];
}

/** A body as one short line: JSON's message when there is one, else the text with spaces collapsed. */
export function shortBody(body: Buffer, chars = 80): string {
  const text = body.toString('utf8');
  try {
    const message = (JSON.parse(text) as { message?: unknown }).message;
    if (typeof message === 'string') return shorten(message, chars);
  } catch {
    // not JSON
  }
  return shorten(text.replace(/<[^>]*>/g, ' '), chars);
}

export function shorten(text: string, chars = 80): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= chars ? line : `${line.slice(0, chars - 1)}…`;
}

/** "401×190 429×10 ECONNRESET×0": how many requests ended which way. */
export function tally(outcomes: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const outcome of outcomes) counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  return [...counts].map(([outcome, count]) => `${outcome}×${count}`).join(' ');
}
