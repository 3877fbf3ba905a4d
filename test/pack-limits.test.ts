// Pushed packs that expand far beyond their size, over HTTP to a running server: a delta bomb
// and a chain deeper than the limit are refused with their reason and change nothing, and
// while a legitimately heavy pack is indexed /healthz keeps answering at once.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before } from 'node:test';
import { BOMB_BASE_BYTES, deltaChain, starDeltaBomb } from '@gitfleet/test-support/delta-bombs';
import { postService, rawRequest } from './helpers/http.js';
import { serverTest, startServer, type TestServer } from '@gitfleet/test-support/server';
import { packetLines, receivePackRequest, ZERO_ID } from '@gitfleet/test-support/wire';

const blobId = (data: Buffer) => createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
const BOMB_BASE = blobId(Buffer.alloc(BOMB_BASE_BYTES, 'a'));
const CHAIN_BASE = blobId(Buffer.alloc(100, 'b'));

/**
 * Generous for a machine shared with other test runs: indexing 1 GiB on the event loop held it
 * for seconds, in one stretch.
 */
const SLOWEST_HEALTHZ_MS = 1000;

let server: TestServer;
before(async () => {
  // The allowance lets the heavy push below (1 GiB from a few KB) through.
  server = await startServer({ GITFLEET_PUSH_MAX_DELTA_DEPTH: '100', GITFLEET_PUSH_EXPANSION_ALLOWANCE: '1100MiB' });
});
after(async () => {
  await server?.stop();
});
const it = serverTest(() => server);

async function push(url: string, pack: Buffer, ref: string, oid: string): Promise<string[]> {
  const response = await postService(
    url,
    'git-receive-pack',
    receivePackRequest([{ old: ZERO_ID, new: oid, ref }], ['report-status', 'agent=gitfleet-e2e'], pack),
  );
  assert.equal(response.status, 200, response.body.toString('latin1').slice(0, 300));
  return packetLines(response.body);
}

/** Runs `work` while asking /healthz every 20 ms; returns the work's result and the slowest answer. */
async function whileSamplingHealth<T>(work: () => Promise<T>): Promise<{ result: T; slowest: number }> {
  let done = false;
  let slowest = 0;
  const sampler = (async () => {
    while (!done) {
      const started = performance.now();
      const response = await rawRequest(server.url, 'GET', '/healthz', { anonymous: true });
      assert.equal(response.status, 200);
      slowest = Math.max(slowest, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  try {
    return { result: await work(), slowest };
  } finally {
    done = true;
    await sampler;
  }
}

it('a delta bomb of a few KB is refused with its reason, nothing is stored, and /healthz keeps answering', async () => {
  const url = await server.createRepo('e2e', 'delta-bomb');
  const { pack, expandsTo } = starDeltaBomb(300, 256);
  assert.ok(pack.length < 64 * 1024 && expandsTo > 4 * 1024 ** 3);
  const { result: lines, slowest } = await whileSamplingHealth(() => push(url, pack, 'refs/tags/bomb', BOMB_BASE));
  assert.match(lines[0], /^unpack pack of \d+ bytes expands to more than \d+ bytes \(1000 times its size plus 1153433600\)$/);
  assert.deepEqual(lines.slice(1), ['ng refs/tags/bomb unpacker error']);
  assert.ok(slowest < SLOWEST_HEALTHZ_MS, `/healthz took ${slowest.toFixed(0)} ms`);
  const advertised = await rawRequest(server.url, 'GET', `${new URL(url).pathname}/info/refs?service=git-upload-pack`);
  assert.ok(!advertised.body.toString('latin1').includes('refs/tags/bomb'), 'no ref was created');
  assert.ok(server.alive());
});

it('a delta chain deeper than GITFLEET_PUSH_MAX_DELTA_DEPTH is refused; one at the limit is stored', async () => {
  const url = await server.createRepo('e2e', 'deep-chain');
  const deep = await push(url, deltaChain(101), 'refs/tags/deep', CHAIN_BASE);
  assert.match(deep[0], /^unpack delta at offset \d+ ends a chain of more than 100 deltas \(the limit\)$/);
  assert.deepEqual(deep.slice(1), ['ng refs/tags/deep unpacker error']);
  assert.deepEqual(await push(url, deltaChain(100), 'refs/tags/fine', CHAIN_BASE), ['unpack ok', 'ok refs/tags/fine']);
  const advertised = await rawRequest(server.url, 'GET', `${new URL(url).pathname}/info/refs?service=git-upload-pack`);
  assert.ok(!advertised.body.toString('latin1').includes('refs/tags/deep'));
  assert.ok(advertised.body.toString('latin1').includes('refs/tags/fine'));
});

it('while a heavy pack within the limits is indexed, /healthz keeps answering', async () => {
  const url = await server.createRepo('e2e', 'heavy');
  // 64 blobs of 16 MiB: seconds of resolving and hashing, none of it on the event loop.
  const { result: lines, slowest } = await whileSamplingHealth(() => push(url, starDeltaBomb(64, 256).pack, 'refs/tags/heavy', BOMB_BASE));
  assert.deepEqual(lines, ['unpack ok', 'ok refs/tags/heavy']);
  assert.ok(slowest < SLOWEST_HEALTHZ_MS, `/healthz took ${slowest.toFixed(0)} ms`);
});
