/**
 * A client that stops reading a response is cut once the bytes waiting for it have waited for
 * the stall limit, and what the response was sending from is released; a client that reads
 * slowly but steadily is served whole.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import express from 'express';
import { stalledReaderGuard } from '../src/limits/stalled-reader.js';

const STALL_MS = 1_000;
const RESPONSE_BYTES = 64 * 1024 * 1024;

/** A server sending RESPONSE_BYTES from a source that records when it is released. */
async function serve(stallMs = STALL_MS): Promise<{ url: URL; released: Promise<unknown>; close: () => void }> {
  const app = express();
  app.use(stalledReaderGuard(stallMs));
  let release!: () => void;
  const released = new Promise((resolve) => (release = () => resolve(undefined)));
  app.get('/big', async (_req, res) => {
    const chunk = Buffer.alloc(64 * 1024);
    const source = Readable.from(
      (function* () {
        for (let sent = 0; sent < RESPONSE_BYTES; sent += chunk.length) yield chunk;
      })(),
    );
    source.once('close', release);
    res.set('Content-Length', String(RESPONSE_BYTES));
    await pipeline(source, res).catch(() => undefined);
  });
  const server = http.createServer(app).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return { url: new URL(`http://127.0.0.1:${port}/big`), released, close: () => server.close().closeAllConnections() };
}

test('a client that reads nothing is cut after the stall limit, and the response source is released', async () => {
  const { url, released, close } = await serve();
  try {
    const socket = connect(Number(url.port), url.hostname);
    await once(socket, 'connect');
    socket.write(`GET ${url.pathname} HTTP/1.1\r\nHost: x\r\n\r\n`);
    socket.pause();
    const started = Date.now();
    await Promise.race([released, sleep(20 * STALL_MS).then(() => assert.fail('the stalled response was never cut'))]);
    assert.ok(Date.now() - started >= STALL_MS, 'not before the stall limit');
    // The client, reading again, finds the connection closed before the whole response.
    let received = 0;
    socket.on('data', (chunk: Buffer) => (received += chunk.length));
    socket.resume();
    await once(socket, 'close');
    assert.ok(received < RESPONSE_BYTES, `received ${received} bytes`);
  } finally {
    close();
  }
});

test('a slow but steady reader is never cut', async () => {
  // The kernel's buffers let the server go on only in steps (TCP window updates), so the limit
  // here is a few of those steps long, as the real one (a minute) is many of them.
  const { url, close } = await serve(5 * STALL_MS);
  try {
    const response = await new Promise<http.IncomingMessage>((resolve) => http.get(url, resolve));
    let received = 0;
    // Pauses between the first chunks, eight seconds in all (longer than the limit): slower than
    // the server sends, but reading all along.
    let pauses = 80;
    for await (const chunk of response) {
      received += (chunk as Buffer).length;
      if (pauses-- > 0) await sleep(100);
    }
    assert.equal(received, RESPONSE_BYTES);
  } finally {
    close();
  }
});
