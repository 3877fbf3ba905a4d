import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import express, { type ErrorRequestHandler } from 'express';
import pino from 'pino';
import type { HttpError } from '../src/http-errors.js';
import { metricsRoute } from '../src/metrics/route.js';

const TOKEN = 'a-metrics-token-of-enough-length';
let base: string;
let close: () => void;

before(async () => {
  const app = express();
  // Listening on every interface: a loopback client may be a proxy in front of anyone.
  app.get('/metrics', metricsRoute({ enabled: true, token: TOKEN }, { host: '0.0.0.0', trustProxy: false }, pino({ level: 'silent' })));
  const answerErrors: ErrorRequestHandler = (error: HttpError, _req, res, _next) => {
    res.status(error.status).json({ message: error.message });
  };
  app.use(answerErrors);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => server.close();
});
after(() => close?.());

test('a server listening beyond loopback serves its metrics to no local client without the token', async () => {
  const local = await fetch(`${base}/metrics`);
  assert.equal(local.status, 403);
  const withToken = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(withToken.status, 200);
});
