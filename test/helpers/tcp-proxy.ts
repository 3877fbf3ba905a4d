import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP forwarder in front of a real server, to make that server unreachable for the
 * processes that go through it (connections refused) and reachable again on the same port.
 */
export class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private listeningPort = 0;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** Starts forwarding 127.0.0.1:<some free port> to `target` (host:port or an http URL). */
  static async start(target: string): Promise<TcpProxy> {
    const { hostname, port } = new URL(target.includes('://') ? target : `tcp://${target}`);
    const proxy = new TcpProxy(hostname, Number(port));
    await proxy.resume();
    return proxy;
  }

  get port(): number {
    return this.listeningPort;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  /** Stops listening and cuts every forwarded connection. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await new Promise<void>((closed) => server.close(() => closed()));
  }

  /** Listens (again, on the same port once it has one). */
  async resume(): Promise<void> {
    if (this.server) return;
    this.server = await this.listen(this.listeningPort);
    this.listeningPort = (this.server.address() as AddressInfo).port;
  }

  private async listen(port: number): Promise<Server> {
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      this.sockets.add(client).add(upstream);
      const forget = () => {
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', () => upstream.destroy()).on('close', forget);
      upstream.on('error', () => client.destroy()).on('close', forget);
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((listening, failed) => {
      server.once('error', failed);
      server.listen(port, '127.0.0.1', () => listening());
    });
    return server;
  }
}
