import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { FileHandle } from 'node:fs/promises';
import { WalSync, WalSyncFailed } from '../src/sqlite/wal-sync.js';
import { tempDir } from '@gitfleet/test-support/temp-dir';

/** A datasync held until the test lets it go, recording when each began. */
function gatedSync() {
  const started: number[] = [];
  const gates: Array<{ open: () => void; fail: (error: Error) => void }> = [];
  let calls = 0;
  return {
    started,
    gates,
    datasync: (_handle: FileHandle) =>
      new Promise<void>((resolve, reject) => {
        started.push(calls++);
        gates.push({ open: resolve, fail: reject });
      }),
  };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

/** Until `count` fsyncs have begun (the first also opens the file and syncs its directory). */
async function untilStarted(gated: { started: number[] }, count: number): Promise<void> {
  while (gated.started.length < count) await new Promise((resolve) => setTimeout(resolve, 1));
}

async function walFile(t: Parameters<typeof tempDir>[0]): Promise<string> {
  const file = path.join(tempDir(t, 'wal-sync'), 'kv.sqlite-wal');
  await writeFile(file, 'frames');
  return file;
}

test('a sync asked while one runs waits for the next one, which the writers meanwhile share', async (t) => {
  const gated = gatedSync();
  const wal = new WalSync(await walFile(t), gated.datasync);
  const settled: string[] = [];
  const first = wal.sync().then(() => settled.push('first'));
  await untilStarted(gated, 1);
  // Their commits came after the running fsync began: it may not cover them.
  const second = wal.sync().then(() => settled.push('second'));
  const third = wal.sync().then(() => settled.push('third'));
  gated.gates[0].open();
  await first;
  await untilStarted(gated, 2);
  await turn();
  assert.deepEqual(settled, ['first']);
  assert.equal(gated.started.length, 2, 'one more fsync for both waiting writers');
  gated.gates[1].open();
  await Promise.all([second, third]);
  assert.deepEqual(settled, ['first', 'second', 'third']);
  await wal.close();
});

test('a failed fsync fails its writers and every write after it, until the store is opened again', async (t) => {
  const gated = gatedSync();
  const file = await walFile(t);
  const wal = new WalSync(file, gated.datasync);
  const failed = wal.sync();
  await untilStarted(gated, 1);
  const waiting = wal.sync();
  gated.gates[0].fail(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
  await assert.rejects(failed, (error: unknown) => error instanceof WalSyncFailed && /EIO/.test(error.message));
  await assert.rejects(waiting, WalSyncFailed);
  assert.equal(gated.started.length, 1, 'no fsync after a failed one: it could succeed over lost pages');
  assert.throws(() => wal.assertWritable(), WalSyncFailed);
  await assert.rejects(wal.sync(), WalSyncFailed);
  await wal.close();
  const reopened = new WalSync(file);
  reopened.assertWritable();
  await reopened.sync();
  await reopened.close();
});

test('after close, a write is refused rather than left unsynced', async (t) => {
  const wal = new WalSync(await walFile(t));
  await wal.sync();
  await wal.close();
  assert.throws(() => wal.assertWritable(), /closed/);
  await assert.rejects(wal.sync(), /closed/);
});
