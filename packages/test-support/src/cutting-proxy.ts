import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a test server that breaks one upload off midway, as a dropped
 * connection would: the first connection to carry a request starting with `method` is cut once
 * `cutAfterBytes` have gone upstream after that request line. Clients reach the server through
 * it unchanged (the Host header names the proxy, so the server's links lead back through it).
 */
export interface CuttingProxy {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** Whether the cut happened. */
  cut(): boolean;
  /** Bytes sent upstream on every connection from its first request of `method` on. */
  bytesSentAfterMethod(): number;
  close(): Promise<void>;
}

export async function startCuttingProxy(target: URL, options: { method: string; cutAfterBytes: number }): Promise<CuttingProxy> {
  const marker = Buffer.from(`${options.method} /`);
  let cut = false;
  let sentAfterMethod = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      // A reset on one side ends the other: the client sees a broken connection, as intended.
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    upstream.pipe(client);
    let counting = false;
    let sentOnThis = 0;
    client.on('data', (chunk: Buffer) => {
      if (!counting) {
        const at = chunk.indexOf(marker);
        if (at < 0) {
          upstream.write(chunk);
          return;
        }
        counting = true;
      }
      sentAfterMethod += chunk.length;
      sentOnThis += chunk.length;
      if (!cut && sentOnThis >= options.cutAfterBytes) {
        cut = true;
        upstream.end(chunk, () => {
          client.destroy();
          upstream.destroy();
        });
        return;
      }
      if (!upstream.write(chunk)) {
        client.pause();
        upstream.once('drain', () => client.resume());
      }
    });
    client.on('end', () => upstream.end());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    cut: () => cut,
    bytesSentAfterMethod: () => sentAfterMethod,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
