import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface InterceptingProxy {
  /** Base URL of the proxy; paths are forwarded unchanged to the target. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of the server that runs `beforeReceivePack` after git has read the
 * ref advertisement and before its push request reaches the server: the way to make a ref
 * move between the two, as a concurrent pusher would, deterministically.
 */
export async function interceptReceivePack(target: string, beforeReceivePack: () => Promise<void>): Promise<InterceptingProxy> {
  const targetUrl = new URL(target);
  // Every failure of the hook is answered below: the handler's promise never rejects.
  const server: Server = createServer((incoming, outgoing) => void forwardAfterHook(incoming, outgoing));
  async function forwardAfterHook(incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
    try {
      if (incoming.method === 'POST' && incoming.url?.endsWith('/git-receive-pack')) await beforeReceivePack();
    } catch (error) {
      outgoing.writeHead(502).end(`proxy hook failed: ${(error as Error).message}`);
      return;
    }
    const forward = request(
      {
        hostname: targetUrl.hostname,
        port: targetUrl.port,
        method: incoming.method,
        path: incoming.url,
        headers: { ...incoming.headers, host: targetUrl.host },
      },
      (response) => {
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(outgoing);
      },
    );
    forward.on('error', (error) => outgoing.destroy(error));
    incoming.pipe(forward);
  }
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((closed) => {
        server.closeAllConnections();
        server.close(() => closed());
      }),
  };
}
