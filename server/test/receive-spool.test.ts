import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { claimReceiveSpool, receiveSpoolDirectory } from '../src/receive-spool.js';

/** A spool directory as a killed server leaves it: spool files of every kind of owner, and a maintenance run's work directory. */
async function leftSpool(): Promise<string> {
  const spool = await mkdtemp(path.join(tmpdir(), 'gitfleet-spool-'));
  await writeFile(path.join(spool, 'receive-0a1b.pack'), 'a pack an older version spooled here');
  for (const dir of [receiveSpoolDirectory(spool), receiveSpoolDirectory(spool, 0), receiveSpoolDirectory(spool, 1)]) {
    await mkdir(dir);
    await writeFile(path.join(dir, 'receive-2c3d.pack'), 'half a pack');
  }
  await mkdir(path.join(spool, 'maintenance-x1'));
  await writeFile(path.join(spool, 'maintenance-x1', 'compaction.pack'), 'a running maintenance child writes this');
  return spool;
}

const tree = async (dir: string): Promise<string[]> => (await readdir(dir, { recursive: true })).sort();

test('a server serving alone starts with every receive spool emptied, and leaves maintenance work alone', async () => {
  const spool = await leftSpool();
  try {
    const own = await claimReceiveSpool(spool);
    assert.equal(own, receiveSpoolDirectory(spool));
    assert.deepEqual(await tree(spool), ['maintenance-x1', 'maintenance-x1/compaction.pack', 'receive']);
  } finally {
    await rm(spool, { recursive: true, force: true });
  }
});

test("a cluster worker empties only its own slot's receive spool: the other workers are receiving pushes", async () => {
  const spool = await leftSpool();
  try {
    const own = await claimReceiveSpool(spool, 1);
    assert.equal(own, receiveSpoolDirectory(spool, 1));
    assert.deepEqual(await readdir(own), []);
    assert.deepEqual(await readdir(receiveSpoolDirectory(spool, 0)), ['receive-2c3d.pack']);
    assert.deepEqual(await readdir(receiveSpoolDirectory(spool)), ['receive-2c3d.pack']);
  } finally {
    await rm(spool, { recursive: true, force: true });
  }
});
