import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { HttpError, answerHttpError } from '../http-errors.js';
import { clientKey } from './client-key.js';

export interface ConnectionLimits {
  /** Open connections admitted at once; beyond, 503. */
  maxConnections: number;
  /** Open connections admitted at once from one client address; beyond, 429. 0: no such limit. */
  maxConnectionsPerClient: number;
}

/** Seconds a refused client is told to wait. */
const RETRY_AFTER_SECONDS = 5;

/**
 * Counts open connections, in total and per client address. A connection over a limit is
 * still let through to send its request headers (bounded by the headers timeout), so that it
 * gets an HTTP answer (429 or 503) rather than a reset; it then closes, and never reaches the
 * application. Refused connections do not count against the limits, so one client over its
 * own limit cannot use up everyone's; past twice a limit they are cut without an answer.
 */
export class ConnectionGate {
  private readonly admitted = new Counts();
  private readonly refused = new Counts();
  private readonly refusals = new WeakMap<Socket, HttpError>();

  constructor(private readonly limits: ConnectionLimits) {}

  /** Starts counting the connections of `server`. */
  watch(server: Server): void {
    server.on('connection', (socket: Socket) => this.admit(socket));
  }

  /** `app`, behind the gate: requests on a refused connection are answered here. */
  guard(app: RequestListener): RequestListener {
    return (req: IncomingMessage, res: ServerResponse) => {
      const refusal = this.refusals.get(req.socket);
      if (refusal) answerHttpError(res, refusal, { json: true, close: true });
      else app(req, res);
    };
  }

  private admit(socket: Socket): void {
    const client = clientKey(socket.remoteAddress ?? 'unknown');
    const { maxConnections, maxConnectionsPerClient } = this.limits;
    let refusal: HttpError | undefined;
    let refusedOver = 0;
    if (maxConnectionsPerClient > 0 && this.admitted.of(client) >= maxConnectionsPerClient) {
      refusal = new HttpError(429, `too many connections from ${client} (at most ${maxConnectionsPerClient} at once); retry later`, {
        retryAfterSeconds: RETRY_AFTER_SECONDS,
      });
      refusedOver = this.refused.of(client) >= maxConnectionsPerClient ? 1 : 0;
    } else if (this.admitted.total >= maxConnections) {
      refusal = new HttpError(503, `the server is at its limit of ${maxConnections} connections; retry later`, {
        retryAfterSeconds: RETRY_AFTER_SECONDS,
      });
      refusedOver = this.refused.total >= maxConnections ? 1 : 0;
    }
    if (refusal && refusedOver) {
      socket.destroy();
      return;
    }
    const counts = refusal ? this.refused : this.admitted;
    counts.add(client);
    socket.once('close', () => counts.remove(client));
    if (refusal) this.refusals.set(socket, refusal);
  }
}

class Counts {
  total = 0;
  private readonly perClient = new Map<string, number>();

  of(client: string): number {
    return this.perClient.get(client) ?? 0;
  }

  add(client: string): void {
    this.total++;
    this.perClient.set(client, this.of(client) + 1);
  }

  remove(client: string): void {
    this.total--;
    const left = this.of(client) - 1;
    if (left > 0) this.perClient.set(client, left);
    else this.perClient.delete(client);
  }
}
