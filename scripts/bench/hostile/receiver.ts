import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Delivery {
  path: string;
  event: string | undefined;
  payload: unknown;
}

/**
 * Webhook receiver of the attacks that need deliveries. It listens on its own loopback address
 * (127.0.0.2 by default), so that a server refusing loopback hooks can allow exactly it
 * (GITFLEET_HOOK_ALLOWED_NETWORKS) and still refuse 127.0.0.1 in the SSRF attack.
 */
export class HookReceiver {
  private constructor(
    private readonly server: http.Server,
    readonly baseUrl: string,
    readonly deliveries: readonly Delivery[],
  ) {}

  static async start(host: string): Promise<HookReceiver> {
    const deliveries: Delivery[] = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let payload: unknown = text;
        try {
          payload = JSON.parse(text.startsWith('payload=') ? decodeURIComponent(text.slice('payload='.length)) : text);
        } catch {
          // kept as text
        }
        const event = req.headers['x-github-event'] ?? req.headers['x-gitea-event'];
        deliveries.push({ path: req.url ?? '/', event: Array.isArray(event) ? event[0] : event, payload });
        res.end('ok');
      });
    });
    server.listen(0, host);
    await new Promise((resolve, reject) => server.once('listening', resolve).once('error', reject));
    return new HookReceiver(server, `http://${host}:${(server.address() as AddressInfo).port}`, deliveries);
  }

  /** The URL of one hook: its deliveries are told apart by path. */
  url(path: string): string {
    return `${this.baseUrl}/${path}`;
  }

  /** The first delivery to `path` of `event`, waiting up to timeoutMs; undefined if none came. */
  async waitFor(path: string, event: string, timeoutMs: number): Promise<Delivery | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.deliveries.find((d) => d.path === `/${path}` && d.event === event);
      if (found || Date.now() > deadline) return found;
      await sleep(100);
    }
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
