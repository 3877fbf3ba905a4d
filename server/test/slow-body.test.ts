import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import express from 'express';
import { slowBodyGuard } from '../src/limits/slow-body.js';

const REQUESTS = 40;

test('requests with bodies on one keep-alive connection leave no listener behind on its socket', async (t) => {
  const app = express();
  app.use(slowBodyGuard({ windowMs: 10_000, minBytesPerSecond: 1 }));
  const closeListeners: number[] = [];
  app.post('/', (req, res) => {
    req.resume();
    req.on('end', () => {
      // Read after this request's own listeners are gone (its body is whole): what is left stays for the next one.
      setImmediate(() => {
        closeListeners.push(req.socket.listenerCount('close'));
        res.end('ok');
      });
    });
  });
  const server = http.createServer(app);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const { port } = server.address() as AddressInfo;

  const sockets = new Set<unknown>();
  for (let i = 0; i < REQUESTS; i++) {
    await new Promise<void>((resolve, reject) => {
      const request = http.request({ port, host: '127.0.0.1', method: 'POST', path: '/', agent }, (response) => {
        sockets.add(request.socket);
        response.resume();
        response.on('end', resolve);
      });
      request.on('error', reject);
      request.end(`body ${i}`);
    });
  }

  assert.equal(sockets.size, 1, 'every request went over the same connection');
  assert.equal(closeListeners.length, REQUESTS);
  assert.equal(Math.max(...closeListeners), closeListeners[0], `close listeners per request: ${closeListeners.join(',')}`);
});
