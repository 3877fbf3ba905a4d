import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { git } from '@gitfleet/test-support/git';
import { buildHistory } from '@gitfleet/test-support/histories';
import { buildPack, catFile, sha1Object } from '@gitfleet/test-support/packs';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { DEFAULT_PACK_LIMITS, PackIndexPool } from '../src/index.js';
import { IndexPoolBusy } from '../src/receive-pack/index-pool.js';
import { SpooledPack } from '../src/receive-pack/spool.js';
import { indexCopy } from './index-pool-fixtures.js';

const dir = tempDir({ after }, 'index-pool-inline');
let repo: string;
let n = 0;
const pools: PackIndexPool[] = [];
after(() => Promise.all(pools.map((pool) => pool.close())));

function newPool(inlineWorkBytes?: number): PackIndexPool {
  const pool = new PackIndexPool({ threads: 1, inlineWorkBytes });
  pools.push(pool);
  return pool;
}

before(() => {
  repo = buildHistory(dir, 30);
});

function packOf(revs: string[]): string {
  const file = path.join(dir, `pack-${n++}.pack`);
  writeFileSync(file, git(repo, ['pack-objects', '--revs', '--stdout', '-q', '--thin', '--delta-base-offset'], revs.join('\n') + '\n'));
  return file;
}

/** An outcome with its byte columns as hex: a thread's come back as Uint8Arrays, the event loop's as Buffers. */
function comparable(outcome: object): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(outcome).map(([key, value]) => [
      key,
      ArrayBuffer.isView(value) ? Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex') : value,
    ]),
  );
}

describe('PackIndexPool: small packs are checked on the event loop, with the outcome a thread gives', () => {
  test('a thin pack of a few commits is checked without a thread', async () => {
    const thin = packOf(['main', '^main~3']);
    const tips = git(repo, ['rev-parse', 'main', 'main~1']).toString().trim().split('\n');
    const inline = newPool();
    const threaded = newPool(0);
    const here = (await indexCopy(inline, repo, thin, { tips })).outcome;
    const there = (await indexCopy(threaded, repo, thin, { tips })).outcome;
    assert.ok(here.ok && here.appendedBases > 0, 'the pack was thin and completed');
    assert.deepEqual(comparable(here), comparable(there));
    assert.deepEqual(inline.stats().checks, { eventLoop: 1, thread: 0, overInlineCap: 0 });
    assert.equal(inline.stats().threads, 0, 'no thread was started');
    assert.deepEqual(threaded.stats().checks, { eventLoop: 0, thread: 1, overInlineCap: 0 });
  });

  test('a small pack that declares more work than the cap goes to a thread, before anything is written', async () => {
    const thin = packOf(['main', '^main~3']);
    const cap = 16 << 10;
    // Small enough to be tried on the event loop; its deltas on big.txt declare more than the cap.
    assert.ok(statSync(thin).size <= cap, `the pack (${statSync(thin).size} bytes) is tried inline`);
    const capped = newPool(cap);
    const threaded = newPool(0);
    const here = (await indexCopy(capped, repo, thin)).outcome;
    const there = (await indexCopy(threaded, repo, thin)).outcome;
    assert.ok(here.ok && here.appendedBases > 0);
    assert.deepEqual(comparable(here), comparable(there), 'the thread indexed the spooled pack as it came: no base was appended twice');
    assert.deepEqual(capped.stats().checks, { eventLoop: 0, thread: 1, overInlineCap: 1 });
    assert.ok(capped.stats().threads >= 1);
  });

  test('a pack held in memory is checked there, never written to a file, and completed in memory', async () => {
    const thin = packOf(['main', '^main~3']);
    const tips = git(repo, ['rev-parse', 'main']).toString().trim().split('\n');
    const inline = newPool();
    const { outcome: here, pack } = await indexCopy(inline, repo, thin, { tips }, 'in-memory');
    const { outcome: there, pack: spooled } = await indexCopy(newPool(0), repo, thin, { tips });
    assert.ok(here.ok && here.appendedBases > 0);
    assert.deepEqual(comparable(here), comparable(there));
    assert.equal(existsSync(pack.path), false, 'no spool file');
    assert.deepEqual(pack.stored, readFileSync(spooled.path), 'the completed pack, as the thread completed the file');
    assert.deepEqual(inline.stats().checks, { eventLoop: 1, thread: 0, overInlineCap: 0 });
  });

  test('a pack held in memory that declares more than the cap is written to its path, as it came, for a thread', async () => {
    const thin = packOf(['main', '^main~3']);
    const capped = newPool(16 << 10);
    const { outcome: here, pack } = await indexCopy(capped, repo, thin, {}, 'in-memory');
    const { outcome: there, pack: spooled } = await indexCopy(newPool(0), repo, thin);
    assert.ok(here.ok && here.appendedBases > 0);
    assert.deepEqual(comparable(here), comparable(there));
    assert.equal(pack.inMemory, undefined);
    assert.equal(pack.stored, pack.path);
    assert.deepEqual(readFileSync(pack.path), readFileSync(spooled.path));
    assert.deepEqual(capped.stats().checks, { eventLoop: 0, thread: 1, overInlineCap: 1 });
  });

  test('a pack held in memory that is refused as busy is never written to a file', async () => {
    const thin = packOf(['main', '^main~3']);
    const pool = new PackIndexPool({ threads: 1, maxQueue: 0, inlineWorkBytes: 0 });
    pools.push(pool);
    // The first push holds the only thread: its base is read from the repository only once the gate opens.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const first = indexCopy(pool, repo, thin, { readObject: async (oid) => gate.then(() => catFile(repo, [oid]).get(oid)) });
    while (pool.stats().running === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const refused = SpooledPack.inMemory(path.join(dir, 'refused.pack'), readFileSync(thin));
    await assert.rejects(
      pool.index({
        pack: refused,
        maxObjectSize: 64 << 20,
        limits: DEFAULT_PACK_LIMITS,
        tips: [],
        shallow: [],
        readObject: async () => undefined,
      }),
      IndexPoolBusy,
    );
    assert.ok(refused.inMemory, 'still held in memory');
    assert.equal(existsSync(refused.path), false);
    open();
    assert.equal((await first).outcome.ok, true);
  });

  test('a damaged pack is refused on the event loop with the reason a thread gives', async () => {
    const bytes = readFileSync(packOf(['main', '^main~2']));
    bytes[40] ^= 0xff;
    const damaged = path.join(dir, 'damaged.pack');
    writeFileSync(damaged, bytes);
    const inline = newPool();
    const here = (await indexCopy(inline, repo, damaged)).outcome;
    const there = (await indexCopy(newPool(0), repo, damaged)).outcome;
    assert.equal(here.ok, false);
    assert.deepEqual(comparable(here), comparable(there));
    assert.equal(inline.stats().checks.eventLoop, 1);
  });

  test('a ref-delta whose base in the repository is not the size it declares is refused before the base is appended', async () => {
    const base = Buffer.from('a base of thirty-two bytes, here\n');
    const baseOid = git(repo, ['hash-object', '-w', '--stdin'], base).toString().trim();
    assert.equal(sha1Object('blob', base), baseOid);
    // Declares a base of 5 bytes and a result of 3: "abc", inserted.
    const delta = Buffer.from([5, 3, 3, ...Buffer.from('abc')]);
    const file = path.join(dir, 'lying-delta.pack');
    writeFileSync(file, buildPack([{ kind: 'ref-delta', baseOid, delta }]));
    for (const pool of [newPool(), newPool(0)]) {
      const outcome = (await indexCopy(pool, repo, file)).outcome;
      assert.equal(outcome.ok, false);
      assert.match(outcome.ok ? '' : outcome.reason, new RegExp(`expects a base of 5 bytes, but ${baseOid} has ${base.length}`));
    }
  });
});
