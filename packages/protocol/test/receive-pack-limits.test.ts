/**
 * Pushed packs that would make the server work without bound: delta bombs, deep chains. Each is
 * refused with its reason and leaves nothing behind; a legitimately heavy pack is indexed off
 * the event loop.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { ZERO_OID } from '@gitfleet/git-format';
import type { Repository } from '@gitfleet/repository';
import { DEFAULT_PACK_LIMITS, PackIndexPool, receivePack, type ReceivePackOptions } from '../src/index.js';
import { BOMB_BASE_BYTES, deltaChain, starDeltaBomb } from '@gitfleet/test-support/delta-bombs';
import { maxEventLoopGap } from '@gitfleet/test-support/event-loop';
import { collect, parseResponse, pushRequest, requestStream } from '@gitfleet/test-support/receive-pack-wire';
import { createRepository } from '@gitfleet/test-support/stores';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { backends, TEST_LIMITS } from './receive-pack-fixtures.js';

const LIMITS = { ...TEST_LIMITS, maxObjectSize: 64 << 20 };

/** The id of the bombs' base blob: a ref can name it once the pack is stored. */
const BASE_BLOB = createHash('sha1').update(`blob ${BOMB_BASE_BYTES}\0`).update(Buffer.alloc(BOMB_BASE_BYTES, 'a')).digest('hex');
const BASE_OF_CHAIN = createHash('sha1').update('blob 100\0').update(Buffer.alloc(100, 'b')).digest('hex');

for (const backend of backends) {
  describe(`receive-pack limits what a pushed pack may expand to, on ${backend.name}`, () => {
    async function push(
      t: Parameters<typeof tempDir>[0],
      pack: Buffer,
      ref: string,
      oid: string,
      options: Partial<ReceivePackOptions> = {},
    ) {
      const dir = tempDir(t, 'limits');
      const repo = await createRepository(await backend.open(t));
      const spoolDir = path.join(dir, 'spool');
      const body = pushRequest([{ old: ZERO_OID, new: oid, ref }], { pack });
      const response = parseResponse(
        await collect(await receivePack(repo, requestStream(body), { limits: LIMITS, spoolDir, ...options })),
        true,
      );
      assert.deepEqual(existsSync(spoolDir) ? readdirSync(spoolDir) : [], [], 'the spool file is removed');
      return { response, refs: await repo.refs.list(), packs: await repo.packs.list() };
    }

    it('a delta bomb of a few KB is refused with its reason, and nothing is stored', async (t) => {
      const { pack, expandsTo } = starDeltaBomb(300, 256);
      assert.ok(pack.length < 64 * 1024 && expandsTo > 4 * 1024 ** 3, `${pack.length} bytes expanding to ${expandsTo}`);
      const started = Date.now();
      const { response, refs, packs } = await push(t, pack, 'refs/tags/bomb', BASE_BLOB);
      assert.match(response.report[0], /^unpack pack of \d+ bytes expands to more than \d+ bytes \(1000 times its size plus 536870912\)$/);
      assert.deepEqual(response.report.slice(1), ['ng refs/tags/bomb unpacker error']);
      assert.match(response.progress, /error: pack of \d+ bytes expands to more than/, 'git prints the reason as "remote: error: …"');
      assert.deepEqual(refs, []);
      assert.deepEqual(packs, []);
      // Stopped at the limit, not after expanding 4 GiB.
      assert.ok(Date.now() - started < 20_000, `refused after ${Date.now() - started} ms`);
    });

    it('a total of inflated bytes over the limit is refused whatever the ratio', async (t) => {
      const { pack } = starDeltaBomb(8, 128);
      const { response, packs } = await push(t, pack, 'refs/tags/bomb', BASE_BLOB, {
        packLimits: { ...DEFAULT_PACK_LIMITS, maxInflatedBytes: 32 << 20 },
      });
      assert.deepEqual(response.report, ['unpack pack expands to more than 33554432 bytes', 'ng refs/tags/bomb unpacker error']);
      assert.deepEqual(packs, []);
    });

    it('a delta chain deeper than the limit is refused; at the limit it is stored', async (t) => {
      const limits = { ...DEFAULT_PACK_LIMITS, maxDeltaDepth: 100 };
      const deep = await push(t, deltaChain(101), 'refs/tags/chain', BASE_OF_CHAIN, { packLimits: limits });
      assert.match(deep.response.report[0], /^unpack delta at offset \d+ ends a chain of more than 100 deltas \(the limit\)$/);
      assert.deepEqual(deep.packs, []);
      assert.deepEqual(deep.refs, []);

      const fine = await push(t, deltaChain(100), 'refs/tags/chain', BASE_OF_CHAIN, { packLimits: limits });
      assert.deepEqual(fine.response.report, ['unpack ok', 'ok refs/tags/chain']);
      assert.equal(fine.packs.length, 1);
    });

    it('the event loop stays responsive while a heavy pack is indexed', async (t) => {
      // 24 blobs of 16 MiB each: resolving and hashing them takes a second or more of CPU.
      const { pack } = starDeltaBomb(24, 256);
      const maxGap = await maxEventLoopGap(async () => {
        const { response } = await push(t, pack, 'refs/tags/heavy', BASE_BLOB);
        assert.deepEqual(response.report, ['unpack ok', 'ok refs/tags/heavy']);
      });
      assert.ok(maxGap < 200, `the event loop was held for ${maxGap.toFixed(0)} ms`);
    });
  });
}

/**
 * A heavy push (small on the wire, it declares more work than the inline cap: it goes to a
 * thread), then, while it holds the pool's only thread, a small one. Returns both reports.
 */
async function smallPushBesideHeavy(t: TestContext, pool: PackIndexPool): Promise<{ heavy: string[]; small: string[]; repo: Repository }> {
  const dir = tempDir(t, 'beside-heavy');
  const repo = await createRepository(await backends[0].open(t));
  const options = { limits: LIMITS, spoolDir: path.join(dir, 'spool'), indexPool: pool };
  const heavy = receivePack(
    repo,
    requestStream(pushRequest([{ old: ZERO_OID, new: BASE_BLOB, ref: 'refs/tags/a' }], { pack: starDeltaBomb(24, 256).pack })),
    options,
  );
  const first = collect(await heavy);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(pool.stats().running, 1, 'the heavy push holds the thread');
  const second = await collect(
    await receivePack(
      repo,
      requestStream(pushRequest([{ old: ZERO_OID, new: BASE_OF_CHAIN, ref: 'refs/tags/b' }], { pack: deltaChain(3) })),
      options,
    ),
  );
  return { small: parseResponse(second, true).report, heavy: parseResponse(await first, true).report, repo };
}

describe('the index pool', () => {
  it('refuses a push when its threads are busy and its queue is full, and stores nothing', async (t) => {
    // Every pack goes to a thread, however small.
    const pool = new PackIndexPool({ threads: 1, maxQueue: 0, inlineWorkBytes: 0 });
    t.after(() => pool.close());
    const { small, heavy, repo } = await smallPushBesideHeavy(t, pool);
    assert.deepEqual(small, ['unpack the server is indexing too many pushes, try again later', 'ng refs/tags/b unpacker error']);
    assert.deepEqual(heavy, ['unpack ok', 'ok refs/tags/a']);
    assert.deepEqual(
      (await repo.refs.list()).map((r) => r.name),
      ['refs/tags/a'],
    );
  });

  it('checks a small push on the event loop while a heavy one holds the only thread', async (t) => {
    const pool = new PackIndexPool({ threads: 1, maxQueue: 0 });
    t.after(() => pool.close());
    const { small, heavy, repo } = await smallPushBesideHeavy(t, pool);
    assert.deepEqual(small, ['unpack ok', 'ok refs/tags/b']);
    assert.deepEqual(heavy, ['unpack ok', 'ok refs/tags/a']);
    assert.deepEqual(pool.stats().checks, { eventLoop: 1, thread: 1, overInlineCap: 1 });
    assert.deepEqual((await repo.refs.list()).map((r) => r.name).sort(), ['refs/tags/a', 'refs/tags/b']);
  });
});
