/**
 * The early refusal of password guesses, on a plain HTTP server with stand-ins for the login
 * guard, the token lookup and the logger: which requests it answers itself, and with what, and
 * which it hands to the application.
 */
import assert from 'node:assert/strict';
import http, { type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, test } from 'node:test';
import { refusingGuessesEarly } from '../src/auth/early-refusal.js';
import { HttpError } from '../src/http-errors.js';
import type { ServerServices } from '../src/services.js';

const TOKEN = 'gf_the-token-of-erin';
const REFUSAL = new HttpError(429, 'too many password checks at once from 127.0.0.1 (at most 1): try again in a moment', {
  retryAfterSeconds: 2,
});

let atCap = true;
const reachedApp: string[] = [];
const logLines: Array<Record<string, unknown>> = [];
const services = {
  config: { trustProxy: false, metrics: { enabled: false } },
  logins: { refusalNow: () => (atCap ? REFUSAL : undefined) },
  accounts: { authenticateToken: async (secret: string) => (secret === TOKEN ? { user: { name: 'erin' } } : undefined) },
  logger: { info: (fields: Record<string, unknown>, msg: string) => logLines.push({ ...fields, msg }), error: () => {} },
} as unknown as ServerServices;
const app: RequestListener = (req, res) => {
  reachedApp.push(req.url ?? '');
  res.end('from the application');
};

let server: http.Server;
let port: number;
before(async () => {
  server = http.createServer(refusingGuessesEarly(services, app));
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  port = (server.address() as AddressInfo).port;
});
after(() => new Promise<void>((closed) => server.close(() => closed())));
beforeEach(() => {
  atCap = true;
  reachedApp.length = 0;
  logLines.length = 0;
});

function get(path: string, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, headers, agent: false }, (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
      })
      .on('error', reject);
  });
}
const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

test('a guess at the cap on the API: the guard’s 429 as JSON, with Retry-After and one log line giving the reason', async () => {
  const answer = await get('/api/v1/user', basic('erin', 'guess'));
  assert.equal(answer.status, 429);
  assert.equal(answer.headers['retry-after'], '2');
  assert.match(answer.headers['content-type'] ?? '', /^application\/json/);
  assert.deepEqual(JSON.parse(answer.body), { message: REFUSAL.message });
  assert.deepEqual(reachedApp, []);
  assert.equal(logLines.length, 1);
  assert.equal(logLines[0].status, 429);
  assert.equal(logLines[0].reason, REFUSAL.message);
  assert.equal(logLines[0].path, '/api/v1/user');
});

test('a guess at the cap on git: the same refusal as plain text', async () => {
  const answer = await get('/erin/work.git/info/refs?service=git-upload-pack', basic('erin', 'guess'));
  assert.equal(answer.status, 429);
  assert.match(answer.headers['content-type'] ?? '', /^text\/plain/);
  assert.equal(answer.body, `${REFUSAL.message}\n`);
  assert.deepEqual(reachedApp, []);
});

test('what the application answers itself: a token as the password, no cap reached, browsers, web pages, other schemes', async () => {
  await get('/api/v1/user', basic('erin', TOKEN));
  await get('/api/v1/user', basic('someone-else', TOKEN));
  await get('/api/v1/user', { ...basic('erin', 'guess'), origin: 'https://elsewhere.example' });
  await get('/api/v1/user', { ...basic('erin', 'guess'), referer: 'https://elsewhere.example/page' });
  await get('/api/v1/user', { ...basic('erin', 'guess'), 'sec-fetch-site': 'cross-site' });
  await get('/erin/work', basic('erin', 'guess'));
  await get('/api/v1/user', { authorization: `Bearer ${TOKEN}` });
  await get('/api/v1/user', { authorization: 'Basic !!!' });
  atCap = false;
  await get('/api/v1/user?no-cap', basic('erin', 'guess'));
  assert.deepEqual(reachedApp, [
    '/api/v1/user',
    '/api/v1/user',
    '/api/v1/user',
    '/api/v1/user',
    '/api/v1/user',
    '/erin/work',
    '/api/v1/user',
    '/api/v1/user',
    '/api/v1/user?no-cap',
  ]);
  assert.deepEqual(logLines, []);
});
