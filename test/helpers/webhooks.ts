import { createHmac, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhooks } from '@octokit/webhooks';
import { LOOPBACK_RECEIVERS_ENV, adminHeaders, startServer, type ServerProcess } from '@gitfleet/test-support/server';
import { embeddedStorage } from '@gitfleet/test-support/server-storage';

export { LOOPBACK_RECEIVERS_ENV, type ServerProcess };

export interface ReceivedDelivery {
  headers: http.IncomingHttpHeaders;
  body: string;
  payload: Record<string, unknown>;
  event: string;
  guid: string;
}

/**
 * A CI-style webhook receiver on 127.0.0.1: it accepts a delivery only when @octokit/webhooks
 * verifies its X-Hub-Signature-256 (and the sha1 and Gitea signatures check out), as a receiver
 * written against GitHub's documentation would. It can answer 503 ("failing") or be shut down
 * and brought back on the same port ("down").
 */
export class WebhookReceiver {
  readonly accepted: ReceivedDelivery[] = [];
  /** Every request that reached it, accepted or not. */
  readonly seen: ReceivedDelivery[] = [];
  readonly rejected: string[] = [];
  /** Status answered to every delivery; 200 when up. */
  answer = 200;
  private server?: http.Server;
  private port = 0;
  private readonly webhooks: Webhooks;
  private waiters = new Set<() => void>();

  constructor(private readonly secret: string) {
    this.webhooks = new Webhooks({ secret });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  async start(): Promise<void> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.listen(this.port, '127.0.0.1');
    await once(server, 'listening');
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops listening: deliveries now meet a refused connection. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
  }

  /** Resolves once `predicate` holds for the accepted deliveries (checked on each arrival). */
  async waitFor(what: string, predicate: (accepted: ReceivedDelivery[]) => boolean, timeoutMs = 30_000): Promise<void> {
    if (predicate(this.accepted)) return;
    await new Promise<void>((done, fail) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        fail(
          new Error(
            `receiver: timed out waiting for ${what}; accepted ${JSON.stringify(this.accepted.map((d) => `${d.event}:${(d.payload.ref as string) ?? ''}`))}, rejected ${JSON.stringify(this.rejected)}`,
          ),
        );
      }, timeoutMs);
      const check = () => {
        if (!predicate(this.accepted)) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        done();
      };
      this.waiters.add(check);
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const guid = String(req.headers['x-github-delivery'] ?? '');
    const event = String(req.headers['x-github-event'] ?? '');
    const delivery: ReceivedDelivery = { headers: req.headers, body, payload: {}, event, guid };
    this.seen.push(delivery);
    if (this.answer !== 200) {
      res.writeHead(this.answer).end('not now');
      return;
    }
    const problem = await this.verify(req.headers, body);
    if (problem) {
      this.rejected.push(`${guid} ${event}: ${problem}`);
      res.writeHead(401).end(problem);
      return;
    }
    delivery.payload = JSON.parse(body) as Record<string, unknown>;
    this.accepted.push(delivery);
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`got ${event}`);
    for (const waiter of [...this.waiters]) waiter();
  }

  private async verify(headers: http.IncomingHttpHeaders, body: string): Promise<string | undefined> {
    const sha256 = String(headers['x-hub-signature-256'] ?? '');
    if (!(await this.webhooks.verify(body, sha256))) return `X-Hub-Signature-256 ${JSON.stringify(sha256)} does not verify`;
    const sha1 = `sha1=${createHmac('sha1', this.secret).update(body).digest('hex')}`;
    if (!safeEqual(String(headers['x-hub-signature'] ?? ''), sha1)) return 'X-Hub-Signature (sha1) does not verify';
    const gitea = createHmac('sha256', this.secret).update(body).digest('hex');
    if (!safeEqual(String(headers['x-gitea-signature'] ?? ''), gitea)) return 'X-Gitea-Signature does not verify';
    return undefined;
  }
}

function safeEqual(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/**
 * A server process on `dataDir`, which stays when it stops (so that a test can kill it and
 * start another on the same data), on the embedded backend unless `env` chooses others.
 */
export function spawnServer(dataDir: string, env: Record<string, string>): Promise<ServerProcess> {
  return startServer(env, { dataDir, storage: embeddedStorage() });
}

/** JSON from the server's REST API (as TEST_ADMIN), failing on an unexpected status. */
export async function api<T = unknown>(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  expectStatus?: number,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${baseUrl}/api/v1${path}`, {
    method,
    headers: adminHeaders(body === undefined ? {} : { 'content-type': 'application/json' }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (expectStatus !== undefined && response.status !== expectStatus) {
    throw new Error(`${method} ${path}: expected HTTP ${expectStatus}, got ${response.status} ${text}`);
  }
  return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
}

/** Polls `probe` until it returns a value (not undefined); for server-side state with no event to wait on. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}
