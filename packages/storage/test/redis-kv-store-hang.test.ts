import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { RedisKVStore, StoreUnavailable, WriteOutcomeUnknown } from '@gitfleet/storage';

// A Redis that stops answering (a stopped process keeps its connections open and the kernel
// still accepts new ones): requests are read and never replied to. Every call must fail rather
// than wait for ever; a write must say that its outcome is unknown. The node:test timeout is
// what catches a call that hangs.

describe('RedisKVStore against a server that stops answering', () => {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.on('data', () => {});
  });
  let kv: RedisKVStore;

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    kv = new RedisKVStore({ connection: { url: `redis://127.0.0.1:${port}` }, commandTimeoutMs: 300 });
  });
  after(async () => {
    await kv.close();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const reads: Array<[string, (kv: RedisKVStore) => Promise<unknown>]> = [
    ['get', (kv) => kv.get('scope', 'key')],
    ['getMany', (kv) => kv.getMany('scope', ['a', 'b'])],
    ['scan', (kv) => kv.scan('scope', 'ref:')],
    ['readLog', (kv) => kv.readLog('scope', 'log')],
  ];
  for (const [name, call] of reads) {
    it(`fails ${name} instead of waiting for a reply`, { timeout: 20_000 }, async () => {
      await assert.rejects(call(kv), (error: Error) => {
        assert.ok(error instanceof StoreUnavailable, `${error.name}: ${error.message}`);
        assert.match(error.message, new RegExp(`^Redis .*scope.*timed out`));
        return true;
      });
    });
  }

  it('reports a compare-and-swap without a reply as of unknown outcome', { timeout: 20_000 }, async () => {
    await assert.rejects(kv.compareAndSwap('scope', [{ key: 'ref', expect: null, value: 'v' }], 'all'), (error: Error) => {
      assert.ok(error instanceof WriteOutcomeUnknown, `${error.name}: ${error.message}`);
      assert.match(error.message, /may have been applied/);
      return true;
    });
  });

  it('fails an append instead of waiting for a reply', { timeout: 20_000 }, async () => {
    await assert.rejects(
      kv.append('scope', 'log', 'entry'),
      (error: Error) => error instanceof StoreUnavailable && /timed out/.test(error.message),
    );
  });
});
