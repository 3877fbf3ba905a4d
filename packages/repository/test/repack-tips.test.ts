import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryBlobStore } from '@gitfleet/storage';
import { sidecarBlobKey } from '../src/keys.js';
import { decodeRepackTips, encodeRepackTips, loadRepackTips, REPACK_TIPS_SIDECAR } from '../src/repack-tips-cache.js';
import { repackTips } from '../src/maintenance/repack-tips.js';

const oid = (digit: string) => digit.repeat(40);

test('the refs split into what a clone fetches (branches, tags) and the tips of the others that are not clone tips too', () => {
  assert.deepEqual(
    repackTips([
      { name: 'refs/heads/main', oid: oid('1') },
      { name: 'refs/tags/v1', oid: oid('2') },
      { name: 'refs/pull/1/head', oid: oid('3') },
      { name: 'refs/pull/2/head', oid: oid('1') },
      { name: 'refs/notes/commits', oid: oid('4') },
      { name: 'refs/heads-not-a-branch', oid: oid('5') },
    ]),
    { clone: [oid('1'), oid('2')], rest: [oid('3'), oid('4'), oid('5')] },
  );
  assert.deepEqual(
    repackTips([{ name: 'refs/pull/1/head', oid: oid('3') }]),
    { clone: [oid('3')], rest: [] },
    'without a branch or tag, every ref is a clone tip',
  );
});

test('the tips sidecar keeps the clone pack and the distinct tips; anything else is refused, and a load of it only warns', async () => {
  const written = { clonePack: oid('c'), tips: new Set([oid('3'), oid('1'), oid('2')]) };
  const bytes = encodeRepackTips(written);
  assert.equal(bytes.length, 4 * 20);
  const read = decodeRepackTips(bytes);
  assert.equal(read.clonePack, written.clonePack);
  assert.deepEqual([...read.tips], [oid('1'), oid('2'), oid('3')]);

  assert.throws(() => decodeRepackTips(Buffer.alloc(0)), RangeError);
  assert.throws(() => decodeRepackTips(bytes.subarray(0, 50)), RangeError);
  const unordered = Buffer.concat([bytes.subarray(0, 20), bytes.subarray(40, 60), bytes.subarray(20, 40)]);
  assert.throws(() => decodeRepackTips(unordered), /out of order/);

  const blobs = new MemoryBlobStore();
  const warnings: string[] = [];
  const warn = (message: string) => warnings.push(message);
  assert.equal(await loadRepackTips(blobs, 'r', oid('e'), warn), undefined);
  await blobs.putIfAbsent(sidecarBlobKey('r', oid('e'), REPACK_TIPS_SIDECAR), unordered);
  assert.equal(await loadRepackTips(blobs, 'r', oid('e'), warn), undefined);
  assert.equal(warnings.length, 2);
  assert.match(warnings[1], /walking the history instead/);
  await blobs.putIfAbsent(sidecarBlobKey('r', oid('f'), REPACK_TIPS_SIDECAR), bytes);
  assert.deepEqual((await loadRepackTips(blobs, 'r', oid('f'), warn))?.tips, read.tips);
});
