// Slow and many clients: slow headers and slow bodies are cut off, connections beyond the
// caps (per client address, in total) and pushes beyond theirs (per account, in total) get
// 429/503 with a JSON message, and the server keeps serving.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { GitClient } from '@gitfleet/test-support/git-client';
import { adminHeaders, serverTest, startServer, TEST_ADMIN, TEST_ADMIN_PASSWORD, type TestServer } from '@gitfleet/test-support/server';
import { pkt, FLUSH } from '@gitfleet/test-support/wire';

/** A raw connection to `url` that collects what the server sends and notes when it closes. */
async function openSocket(url: string): Promise<{ socket: Socket; received: () => string; closed: Promise<number> }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  socket.on('error', () => {});
  const opened = Date.now();
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - opened)));
  return { socket, received: () => received, closed };
}

/** Holds `count` connections open; one more is refused with `status` and `message`; once they close, the server answers again. */
async function assertRefusedBeyond(url: string, count: number, status: number, message: RegExp): Promise<void> {
  const held = await Promise.all(Array.from({ length: count }, () => openSocket(url)));
  const extra = await openSocket(url);
  extra.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  await extra.closed;
  assert.equal(statusOf(extra.received()), status, extra.received());
  assert.match(bodyOf(extra.received()).message, message);
  for (const { socket } of held) socket.destroy();
  await Promise.all(held.map(({ closed }) => closed));
  await sleep(100);
  assert.equal((await fetch(`${url}/healthz`)).status, 200);
}

/** A real git push of a first commit to `url` goes through. */
async function pushSucceeds(url: string): Promise<void> {
  const git = await GitClient.create(2);
  try {
    const seed = await git.init('seed');
    await git.commitFiles(seed, { 'a.txt': 'a\n' }, 'first');
    await git.ok(['push', url, 'main'], { cwd: seed });
  } finally {
    await git.cleanup();
  }
}

const statusOf = (response: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
const bodyOf = (response: string) => JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as { message: string };

describe('slow clients and per-client connections', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({
      GITFLEET_HEADERS_TIMEOUT_MS: '1000',
      GITFLEET_BODY_WINDOW_MS: '1000',
      GITFLEET_BODY_MIN_BYTES_PER_SECOND: '500',
      GITFLEET_MAX_CONNECTIONS_PER_CLIENT: '6',
      GITFLEET_MAX_PUSHES_PER_ACCOUNT: '1',
      GITFLEET_PUSH_WAIT_MS: '300',
    });
  });
  after(async () => {
    await server?.stop();
  });
  const it = serverTest(() => server);

  it('cuts a client that sends its headers too slowly', async () => {
    const slow = await openSocket(server.url);
    slow.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const tickle = setInterval(() => slow.socket.write('X-Slow: 1\r\n'), 300);
    const closedAfter = await slow.closed;
    clearInterval(tickle);
    // Before: the headers timeout was 60 s, checked every 30 s.
    assert.ok(closedAfter < 4000, `closed after ${closedAfter} ms`);
    assert.match(slow.received(), /^HTTP\/1\.1 408/);
  });

  it('answers 408 and closes when a request body trickles in', async () => {
    const repo = await server.createRepo('e2e', 'slow-body');
    const slow = await openSocket(server.url);
    const headers = Object.entries(adminHeaders({ 'content-type': 'application/x-git-upload-pack-request', 'content-length': '100000' }))
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    // The start of a 4 KiB pkt-line, then a byte now and then.
    slow.socket.write(`POST ${new URL(repo).pathname}/git-upload-pack HTTP/1.1\r\nHost: x\r\n${headers}\r\n0fff`);
    const trickle = setInterval(() => slow.socket.write('x'), 200);
    const closedAfter = await slow.closed;
    clearInterval(trickle);
    // Before: only the one-hour request timeout ended it.
    assert.ok(closedAfter < 6000, `closed after ${closedAfter} ms`);
    assert.equal(statusOf(slow.received()), 408, slow.received());
    // Git's paths answer in text, as every refusal there.
    assert.match(slow.received(), /slower than 500 bytes\/s/);
  });

  it('answers 408 with a JSON message when an API body trickles in', async () => {
    const slow = await openSocket(server.url);
    const headers = Object.entries(adminHeaders({ 'content-type': 'application/json', 'content-length': '1000' }))
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    slow.socket.write(`POST /api/v1/repos HTTP/1.1\r\nHost: x\r\n${headers}\r\n{"owner":`);
    const trickle = setInterval(() => slow.socket.write(' '), 200);
    const closedAfter = await slow.closed;
    clearInterval(trickle);
    assert.ok(closedAfter < 6000, `closed after ${closedAfter} ms`);
    assert.equal(statusOf(slow.received()), 408, slow.received());
    assert.match(bodyOf(slow.received()).message, /slower than 500 bytes\/s/);
  });

  it('answers 429 to connections beyond the per-client cap, and serves again once they close', async () => {
    await assertRefusedBeyond(server.url, 6, 429, /too many connections/);
  });

  it('answers 429 to a second concurrent push of one account once its wait is over, before spooling it', async () => {
    const url = await server.createRepo('e2e', 'push-slots');
    const path = new URL(url).pathname;
    // A push that sends its commands, then stalls in its pack (kept just above the body rate).
    const first = await openSocket(server.url);
    const commands = Buffer.concat([pkt(`${'0'.repeat(40)} ${'1'.repeat(40)} refs/heads/x\0report-status\n`), FLUSH]);
    const headers = Object.entries(
      adminHeaders({ 'content-type': 'application/x-git-receive-pack-request', 'content-length': String(commands.length + 1_000_000) }),
    )
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    first.socket.write(`POST ${path}/git-receive-pack HTTP/1.1\r\nHost: x\r\n${headers}\r\n`);
    first.socket.write(commands);
    const keepGoing = setInterval(() => first.socket.write(Buffer.alloc(600)), 1000);
    await sleep(500);
    const second = await fetch(`${url}/git-receive-pack`, {
      method: 'POST',
      headers: adminHeaders({ 'content-type': 'application/x-git-receive-pack-request' }),
      body: commands,
    });
    clearInterval(keepGoing);
    first.socket.destroy();
    assert.equal(second.status, 429);
    assert.equal(second.headers.get('retry-after'), '10');
    // Once the first is gone, pushing works again.
    await sleep(200);
    await pushSucceeds(url);
  });
  it('gives a push slot back when its client leaves before the push is admitted', async () => {
    const url = await server.createRepo('e2e', 'push-slots-gone');
    const path = new URL(url).pathname;
    // Basic with the password: the argon2 check keeps the request in its handler long after the
    // client has gone, so the client's 'close' happens before the slot is taken.
    const basic = `Basic ${Buffer.from(`${TEST_ADMIN}:${TEST_ADMIN_PASSWORD}`).toString('base64')}`;
    for (let i = 0; i < 3; i++) {
      const gone = await openSocket(server.url);
      gone.socket.write(
        `POST ${path}/git-receive-pack HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic}\r\n` +
          'Content-Type: application/x-git-receive-pack-request\r\nContent-Length: 1000\r\n\r\n',
      );
      await sleep(5);
      gone.socket.destroy();
    }
    await sleep(1000);
    await pushSucceeds(url);
  });
});

describe('the total connection cap', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ GITFLEET_MAX_CONNECTIONS: '4', GITFLEET_MAX_CONNECTIONS_PER_CLIENT: '0' });
  });
  after(async () => {
    await server?.stop();
  });
  const it = serverTest(() => server);

  it('answers 503 beyond it', async () => {
    await assertRefusedBeyond(server.url, 4, 503, /limit of 4 connections/);
  });
});
