import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { S3BlobStore, StoreUnavailable } from '@gitfleet/storage';

// An S3 endpoint that stops answering (a stopped radosgw, a black-holed route): connections are
// accepted and requests read, and nothing ever comes back, or a body stops halfway. Every call
// must fail, naming what it did, rather than wait for ever. The node:test timeout is what
// catches a call that hangs.

/** A TCP server that takes every connection and request; `answer` decides what, if anything, it ever writes. */
async function silentEndpoint(answer: (socket: net.Socket) => void = () => {}): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.once('data', () => answer(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function listAll(store: S3BlobStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const { key } of store.list(prefix)) keys.push(key);
  return keys;
}

const credentials = { accessKeyId: 'test', secretAccessKey: 'test-secret' };
const CALL_TIMEOUT = { timeout: 20_000 };

describe('S3BlobStore against an endpoint that stops answering', () => {
  let endpoint: Awaited<ReturnType<typeof silentEndpoint>>;
  let store: S3BlobStore;

  before(async () => {
    endpoint = await silentEndpoint();
    store = new S3BlobStore({
      endpoint: endpoint.url,
      region: 'us-east-1',
      bucket: 'silent',
      credentials,
      idleTimeoutMs: 300,
      bodilessDeadlineMs: 1_000,
      maxAttempts: 2,
    });
  });
  after(async () => {
    await store.close();
    await endpoint.close();
  });

  const calls: Array<[string, (store: S3BlobStore) => Promise<unknown>, RegExp]> = [
    ['head', (s) => s.head('packs/a'), /head of blob packs\/a/],
    ['get', (s) => s.get('packs/a'), /packs\/a/],
    ['getStream', (s) => s.getStream('packs/a', { start: 0, end: 10 }), /packs\/a/],
    ['putIfAbsent', (s) => s.putIfAbsent('packs/a', Buffer.from('bytes')), /put of blob packs\/a/],
    ['delete', (s) => s.delete('packs/a'), /delete of blob packs\/a/],
    ['list', (s) => listAll(s, 'packs/'), /listing of blobs under "packs\/"/],
  ];
  for (const [name, call, names] of calls) {
    it(`fails ${name} instead of waiting for an answer`, CALL_TIMEOUT, async () => {
      await assert.rejects(call(store), (error: Error) => {
        assert.match(error.message, names);
        assert.ok(error instanceof StoreUnavailable, `a store that does not answer is unavailable, not at fault: ${error.name}`);
        return true;
      });
    });
  }
});

describe('S3BlobStore with a long idle timeout', () => {
  it('still fails a request without a body at its deadline', CALL_TIMEOUT, async () => {
    const endpoint = await silentEndpoint();
    const store = new S3BlobStore({
      endpoint: endpoint.url,
      region: 'us-east-1',
      bucket: 'silent',
      credentials,
      idleTimeoutMs: 600_000,
      bodilessDeadlineMs: 500,
    });
    try {
      await assert.rejects(
        store.head('packs/a'),
        (error: Error) => error instanceof StoreUnavailable && /head of blob packs\/a/.test(error.message),
      );
      await assert.rejects(
        listAll(store, 'packs/'),
        (error: Error) => error instanceof StoreUnavailable && /listing of blobs/.test(error.message),
      );
    } finally {
      await store.close();
      await endpoint.close();
    }
  });
});

describe('S3BlobStore reading a body that stops halfway', () => {
  it('fails the stream once it has been idle for the idle timeout', CALL_TIMEOUT, async () => {
    const endpoint = await silentEndpoint((socket) =>
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Type: application/octet-stream\r\n\r\n' + 'x'.repeat(10)),
    );
    const store = new S3BlobStore({
      endpoint: endpoint.url,
      region: 'us-east-1',
      bucket: 'silent',
      credentials,
      idleTimeoutMs: 300,
      maxAttempts: 1,
    });
    try {
      const stream = await store.getStream('packs/a');
      assert.ok(stream);
      let received = 0;
      await assert.rejects(
        (async () => {
          for await (const chunk of stream) received += (chunk as Buffer).length;
        })(),
      );
      assert.equal(received, 10);
    } finally {
      await store.close();
      await endpoint.close();
    }
  });
});
