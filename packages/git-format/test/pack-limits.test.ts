import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { open } from 'node:fs/promises';
import { PackIndex } from '../src/pack/index-file.js';
import { ExpansionBudget, PackLimitExceeded, UNLIMITED_PACK, type PackLimits } from '../src/pack/limits.js';
import { indexPack } from '../src/pack/indexer.js';
import { readPackedObject } from '../src/pack/read-object.js';
import { deltaChain, starDeltaBomb } from '@gitfleet/test-support/delta-bombs';
import { gitStatus } from '@gitfleet/test-support/git';
import { tempDir } from '@gitfleet/test-support/temp-dir';

const dir = tempDir({ after }, 'pack-limits');
let n = 0;

/** Indexes `pack`; returns how many objects were reported before it finished or failed, and the failure. */
async function indexWith(pack: Buffer, limits: Partial<PackLimits>) {
  const path = join(dir, `case-${n++}.pack`);
  writeFileSync(path, pack);
  let reported = 0;
  try {
    const result = await indexPack(path, {
      maxObjectSize: 1 << 30,
      resolveExternal: async () => undefined,
      onObject: () => void reported++,
      limits: { ...UNLIMITED_PACK, ...limits },
    });
    return { reported, result, path };
  } catch (error) {
    return { reported, error: error as Error, path };
  }
}

describe('indexPack limits the work a pack causes, checked while it expands', () => {
  test('a few-KB delta bomb is refused on its inflated bytes after expanding no more than the limit', async () => {
    const { pack, expandsTo } = starDeltaBomb(40, 256);
    assert.ok(pack.length < 16 * 1024 && expandsTo > 600 << 20, `${pack.length} bytes that expand to ${expandsTo}`);
    const { reported, error } = await indexWith(pack, { maxInflatedBytes: 40 << 20 });
    assert.ok(error instanceof PackLimitExceeded, `refused with PackLimitExceeded, got ${error?.stack}`);
    assert.equal(error.limit, 'inflated-bytes');
    assert.match(error.message, /pack expands to more than 41943040 bytes/);
    // The base and two 16 MiB deltas fit in 40 MiB; the third is refused before it is applied.
    assert.equal(reported, 3);
  });

  test('the expansion ratio applies past the allowance, to what the pack expands to relative to its size', async () => {
    const { pack } = starDeltaBomb(40, 256);
    const { reported, error } = await indexWith(pack, { maxExpansionRatio: 1000, expansionAllowance: 8 << 20 });
    assert.ok(error instanceof PackLimitExceeded);
    assert.equal(error.limit, 'expansion-ratio');
    assert.match(
      error.message,
      new RegExp(`pack of ${pack.length} bytes expands to more than \\d+ bytes \\(1000 times its size plus 8388608\\)`),
    );
    assert.ok(reported <= 1, 'refused at the first delta');
  });

  test('the same pack within the limits indexes, and says what it expanded to', async () => {
    const { pack, expandsTo } = starDeltaBomb(4, 16);
    const { result, error } = await indexWith(pack, {
      maxInflatedBytes: expandsTo + (1 << 20),
      maxExpansionRatio: 1000,
      expansionAllowance: 8 << 20,
    });
    assert.equal(error, undefined);
    assert.equal(result?.objectCount, 5);
    assert.ok(result.inflatedBytes >= expandsTo && result.inflatedBytes < expandsTo + (1 << 20), `${result.inflatedBytes} vs ${expandsTo}`);
  });

  test('a delta chain deeper than maxDeltaDepth is refused when resolution reaches that depth; one at the limit indexes, and git agrees', async () => {
    const deep = await indexWith(deltaChain(60), { maxDeltaDepth: 50 });
    assert.ok(deep.error instanceof PackLimitExceeded, `got ${deep.error?.stack}`);
    assert.equal(deep.error.limit, 'delta-depth');
    assert.match(deep.error.message, /ends a chain of more than 50 deltas/);
    assert.equal(deep.reported, 51, 'the blob and the 50 deltas within the limit, nothing past it');

    const atLimit = await indexWith(deltaChain(50), { maxDeltaDepth: 50 });
    assert.equal(atLimit.error, undefined);
    assert.equal(atLimit.result?.objectCount, 51);
    assert.equal(gitStatus(dir, ['index-pack', '--strict', atLimit.path]).status, 0, 'git reads the hand-made chain as a valid pack');
  });

  test('reading an object back from the indexed pack is charged to the same kind of budget', async () => {
    const { result, path } = await indexWith(deltaChain(20), {});
    const index = PackIndex.parse(result!.idx, result!.packSize);
    const tip = result!.entries[20].oid;
    const file = await open(path, 'r');
    try {
      const ample = new ExpansionBudget(UNLIMITED_PACK, result!.packSize);
      assert.equal((await readPackedObject(file, index, tip, ample))?.data.length, 180);
      // 20 deltas inflated, 20 applied, the blob: far more than 1000 bytes.
      const small = new ExpansionBudget({ ...UNLIMITED_PACK, maxInflatedBytes: 1000 }, result!.packSize);
      await assert.rejects(readPackedObject(file, index, tip, small), PackLimitExceeded);
      const shallow = new ExpansionBudget({ ...UNLIMITED_PACK, maxDeltaDepth: 19 }, result!.packSize);
      await assert.rejects(readPackedObject(file, index, tip, shallow), /ends a chain of more than 19 deltas/);
    } finally {
      await file.close();
    }
  });
});
