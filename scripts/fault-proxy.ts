/**
 * A TCP proxy that faults a share of the exchanges between a server and one of its stores
 * (radosgw, Redis): the server is pointed at the proxy instead of the store.
 *
 * An exchange is what a client sends until the store answers, and that answer: one HTTP request
 * and its response, one Redis command (or pipeline) and its replies. On a share of them, drawn
 * from a seeded generator so that a run can be replayed, the proxy
 * - `reset`: resets the connection before the request reaches the store;
 * - `cut-request`: forwards part of the request, then resets (an upload cut mid-body); a request
 *   shorter than the cut passes whole and is then treated as by `lose-answer`;
 * - `lose-answer`: forwards the request whole and resets the connection when the answer starts:
 *   the store acted on the request, and the client cannot know it;
 * - `cut-response`: forwards part of the answer, then closes (a download cut mid-body);
 * - `delay`: delivers the exchange's bytes late, both ways;
 * - `stall`: swallows the request and never answers, the connection left open (a stopped store);
 *   drawn only when asked for by name, since what it holds, it holds until the client gives up.
 * Faults can be switched off and on while it runs (`enabled`; SIGUSR1 from the command line).
 *
 *   node --import tsx scripts/fault-proxy.ts --target 127.0.0.1:7480 [--port 17480] [--rate 0.1] [--seed 1]
 *     [--kinds reset,cut-request,cut-response,delay,stall] [--delay-ms 100]
 *   kill -USR1 <pid>   # faults off / on
 *   kill -USR2 <pid>   # print the counts
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { seededRandom } from '../packages/storage/src/index.js';

export type ConnectionFaultKind = 'reset' | 'cut-request' | 'lose-answer' | 'cut-response' | 'delay' | 'stall';
/** The kinds drawn from unless told otherwise. */
export const CONNECTION_FAULT_KINDS: readonly ConnectionFaultKind[] = ['reset', 'cut-request', 'lose-answer', 'cut-response', 'delay'];
const ALL_FAULT_KINDS: readonly ConnectionFaultKind[] = [...CONNECTION_FAULT_KINDS, 'stall'];

export interface FaultProxyOptions {
  /** The store: host:port, or a URL with a port. */
  target: string;
  /** Share of exchanges faulted, from 0 to 1. */
  rate: number;
  seed: number;
  /** The kinds drawn from, evenly (default all). */
  kinds?: readonly ConnectionFaultKind[];
  /** How late a delayed exchange's bytes arrive (default 100 ms). */
  delayMs?: number;
  /** Where to listen on 127.0.0.1 (default any free port). */
  port?: number;
  /** No more faults once this many were injected (default no limit): a test faults exactly one exchange. */
  maxFaults?: number;
}

/** A cut falls within this many bytes of its request or answer: most answers are longer than the shortest cut. */
const CUT_WITHIN_BYTES = 8 * 1024;

type Fault = { kind: 'reset' | 'lose-answer' | 'delay' | 'stall' } | { kind: 'cut-request' | 'cut-response'; after: number };

export class FaultProxy {
  /** Whether new exchanges are faulted (those under way keep their fault). */
  enabled = true;
  /** Share of exchanges faulted; may be changed while running. */
  rate: number;
  readonly counts: Record<'connections' | 'exchanges' | ConnectionFaultKind, number> = {
    connections: 0,
    exchanges: 0,
    reset: 0,
    'cut-request': 0,
    'lose-answer': 0,
    'cut-response': 0,
    delay: 0,
    stall: 0,
  };
  private readonly random: () => number;
  private readonly kinds: readonly ConnectionFaultKind[];
  private readonly delayMs: number;
  private readonly maxFaults: number;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly targetHost: string,
    private readonly targetPort: number,
    options: FaultProxyOptions,
  ) {
    if (!(options.rate >= 0 && options.rate <= 1)) throw new RangeError(`fault proxy: rate must be in [0, 1], got ${options.rate}`);
    this.rate = options.rate;
    this.random = seededRandom(options.seed);
    this.kinds = options.kinds ?? CONNECTION_FAULT_KINDS;
    if (this.kinds.length === 0) throw new RangeError('fault proxy: no fault kinds to draw from');
    this.delayMs = options.delayMs ?? 100;
    this.maxFaults = options.maxFaults ?? Infinity;
  }

  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const { hostname, port } = new URL(options.target.includes('://') ? options.target : `tcp://${options.target}`);
    if (!port) throw new Error(`fault proxy: the target ${options.target} names no port`);
    const server = createServer();
    const proxy = new FaultProxy(server, hostname, Number(port), options);
    server.on('connection', (client) => proxy.forward(client));
    await new Promise<void>((listening, failed) => {
      server.once('error', failed);
      server.listen(options.port ?? 0, '127.0.0.1', () => listening());
    });
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** host:port of the proxy, for a Redis URL or an S3 endpoint. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Faults injected so far, all kinds together. */
  get faults(): number {
    return this.kinds.reduce((sum, kind) => sum + this.counts[kind], 0);
  }

  /** Stops listening and cuts every connection. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((closed) => this.server.close(() => closed()));
  }

  private draw(): Fault | undefined {
    this.counts.exchanges++;
    if (!this.enabled || this.faults >= this.maxFaults || this.random() >= this.rate) return undefined;
    const kind = this.kinds[Math.floor(this.random() * this.kinds.length)];
    this.counts[kind]++;
    if (kind === 'cut-request' || kind === 'cut-response') return { kind, after: Math.floor(this.random() * CUT_WITHIN_BYTES) };
    return { kind };
  }

  private forward(client: Socket): void {
    this.counts.connections++;
    const upstream = connect(this.targetPort, this.targetHost);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    }
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    /** Set once the connection is cut: what still arrives is dropped. */
    let severed = false;
    const reset = () => {
      severed = true;
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    };

    let fault: Fault | undefined;
    let answered = true;
    let sent = 0;
    let received = 0;
    // Each direction's bytes go out in order, each chunk once the ones before it (and any delay) are out.
    let toUpstream = Promise.resolve();
    let toClient = Promise.resolve();
    const later = (queue: Promise<void>, deliver: () => void) =>
      queue.then(async () => {
        if (fault?.kind === 'delay') await sleep(this.delayMs);
        deliver();
      });

    client.on('data', (chunk: Buffer) => {
      if (severed) return;
      if (answered) {
        answered = false;
        fault = this.draw();
        sent = 0;
        received = 0;
        if (fault?.kind === 'reset') return reset();
      }
      if (fault?.kind === 'stall') return;
      if (fault?.kind === 'cut-request' && sent + chunk.length > fault.after) {
        severed = true;
        const part = chunk.subarray(0, fault.after - sent);
        toUpstream = later(toUpstream, () => upstream.write(part, reset));
        return;
      }
      sent += chunk.length;
      toUpstream = later(toUpstream, () => upstream.write(chunk));
    });
    upstream.on('data', (chunk: Buffer) => {
      if (severed) return;
      answered = true;
      // The whole request went through: the store acted on it, and its answer is lost.
      if (fault?.kind === 'cut-request' || fault?.kind === 'lose-answer') return reset();
      if (fault?.kind === 'cut-response' && received + chunk.length > fault.after) {
        severed = true;
        const part = chunk.subarray(0, fault.after - received);
        toClient = later(toClient, () => {
          client.end(part);
          upstream.destroy();
        });
        return;
      }
      received += chunk.length;
      toClient = later(toClient, () => client.write(chunk));
    });
    client.on('end', () => void later(toUpstream, () => upstream.end()));
    upstream.on('end', () => void later(toClient, () => client.end()));
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      target: { type: 'string' },
      port: { type: 'string', default: '0' },
      rate: { type: 'string', default: '0.1' },
      seed: { type: 'string', default: String(Date.now() % 1_000_000) },
      kinds: { type: 'string', default: CONNECTION_FAULT_KINDS.join(',') },
      'delay-ms': { type: 'string', default: '100' },
    },
  });
  if (!values.target)
    throw new Error('usage: fault-proxy.ts --target host:port [--port N] [--rate 0.1] [--seed N] [--kinds …] [--delay-ms N]');
  const kinds = values.kinds.split(',').map((kind) => {
    if (!(ALL_FAULT_KINDS as readonly string[]).includes(kind)) throw new Error(`unknown fault kind ${kind}`);
    return kind as ConnectionFaultKind;
  });
  const proxy = await FaultProxy.start({
    target: values.target,
    port: Number(values.port),
    rate: Number(values.rate),
    seed: Number(values.seed),
    kinds,
    delayMs: Number(values['delay-ms']),
  });
  console.log(
    `fault proxy ${proxy.address} → ${values.target}: ${values.rate} of exchanges faulted (${kinds.join(', ')}), seed ${values.seed}`,
  );
  process.on('SIGUSR1', () => {
    proxy.enabled = !proxy.enabled;
    console.log(`faults ${proxy.enabled ? 'on' : 'off'}`);
  });
  process.on('SIGUSR2', () => console.log(JSON.stringify(proxy.counts)));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void proxy.close().then(() => process.exit(0)));
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
