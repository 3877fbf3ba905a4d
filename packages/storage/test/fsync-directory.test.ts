import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { DirectorySyncs, fsyncDirectory } from '../src/fsync-directory.js';
import { tempDir } from '@gitfleet/test-support/temp-dir';

/** Directory fsyncs held until the test lets each go, recorded by directory as they begin. */
function gatedSyncs() {
  const started: string[] = [];
  const gates: Array<{ open: () => void; fail: (error: Error) => void }> = [];
  const syncs = new DirectorySyncs(
    (directory) =>
      new Promise<void>((resolve, reject) => {
        started.push(directory);
        gates.push({ open: resolve, fail: reject });
      }),
  );
  return { syncs, started, gates };
}

const settled = async (promise: Promise<unknown>) => {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  return done;
};

test('callers asking while a directory fsync runs share the next one, which starts after it', async () => {
  const { syncs, started, gates } = gatedSyncs();
  const first = syncs.sync('/d');
  const waiting = Array.from({ length: 5 }, () => syncs.sync('/d'));
  const other = syncs.sync('/e');
  assert.deepEqual(started, ['/d', '/e'], 'another directory has fsyncs of its own');

  gates[0].open();
  await first;
  assert.equal(await settled(Promise.any(waiting)), false, 'the entries of the later callers may have been missed by the first fsync');
  assert.deepEqual(started, ['/d', '/e', '/d'], 'one more fsync for all five');
  gates[2].open();
  await Promise.all(waiting);
  gates[1].open();
  await other;

  const afterwards = syncs.sync('/d');
  assert.deepEqual(started, ['/d', '/e', '/d', '/d'], 'once none runs, a caller starts one at once');
  gates[3].open();
  await afterwards;
});

test('a failed fsync fails its callers; the next caller gets an fsync of its own', async () => {
  const { syncs, started, gates } = gatedSyncs();
  const failing = syncs.sync('/d');
  const sharing = syncs.sync('/d');
  gates[0].fail(new Error('EIO'));
  await assert.rejects(failing, /EIO/);
  assert.equal(started.length, 2, 'the waiting caller gets the next fsync');
  gates[1].open();
  await sharing;
  const later = syncs.sync('/d');
  assert.equal(started.length, 3);
  gates[2].open();
  await later;
});

test('fsyncDirectory syncs a real directory, and says which when it cannot', async (t) => {
  const directory = path.join(tempDir(t, 'fsync-directory'), 'packs');
  await mkdir(directory);
  await writeFile(path.join(directory, 'a'), 'a');
  await Promise.all([fsyncDirectory(directory), fsyncDirectory(directory), fsyncDirectory(directory)]);
  await assert.rejects(fsyncDirectory(path.join(directory, 'missing')), /ENOENT.*missing/);
});
