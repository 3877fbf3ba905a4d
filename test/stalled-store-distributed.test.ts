// An S3 store that stops answering (a stopped radosgw: connections accepted, requests read, nothing
// ever answered), reached through a fault proxy that stalls every exchange: a push fails within
// the bounds the server is given (GITFLEET_S3_IDLE_TIMEOUT_MS × GITFLEET_S3_MAX_ATTEMPTS), moves
// no ref, and once the store answers again the same push goes through.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GitClient } from '@gitfleet/test-support/git-client';
import { distributedStorage, s3Target, skipWithoutServer } from '@gitfleet/test-support/server-storage';
import { startServer } from '@gitfleet/test-support/server';
import { FaultProxy } from '../scripts/fault-proxy.js';

const skip = skipWithoutServer('GITFLEET_TEST_S3_ENDPOINT');
const BRANCH = 'refs/heads/main';

test(
  'a push to a server whose S3 store stops answering fails in bounded time, moves nothing, and goes through once it answers',
  { skip, timeout: 180_000 },
  async (t) => {
    const s3 = await FaultProxy.start({ target: s3Target().endpoint, rate: 1, seed: 1, kinds: ['stall'] });
    s3.enabled = false;
    const storage = distributedStorage({ label: 'stalled-s3', extraEnv: { GITFLEET_S3_ENDPOINT: `http://${s3.address}` } });
    const server = await startServer({ GITFLEET_S3_IDLE_TIMEOUT_MS: '2000', GITFLEET_S3_MAX_ATTEMPTS: '2' }, { storage });
    const git = await GitClient.create(2);
    t.after(async () => {
      await server.stop();
      await git.cleanup();
      await s3.close();
    });
    const url = await server.createRepo('stalls', 'app');
    const work = await git.init('stalled-work');
    const first = await git.commitFiles(work, { 'README.md': 'first\n' }, 'first');
    await git.ok(['push', url, `HEAD:${BRANCH}`], { cwd: work });

    const second = await git.commitFiles(work, { 'README.md': 'second\n', 'src/new.txt': 'new\n' }, 'second');
    s3.enabled = true;
    const stalled = await git.run(['push', url, `HEAD:${BRANCH}`], { cwd: work });
    s3.enabled = false;
    assert.notEqual(stalled.code, 0, 'the push did not succeed while the store stalled');
    assert.ok(s3.counts.stall > 0, 'the store was asked and did not answer');
    assert.ok(server.alive(), 'the server is still up');
    assert.equal((await git.ok(['ls-remote', url, BRANCH])).slice(0, 40), first, 'the branch did not move');

    await git.ok(['push', url, `HEAD:${BRANCH}`], { cwd: work });
    assert.equal((await git.ok(['ls-remote', url, BRANCH])).slice(0, 40), second);
    const clone = await git.clone(url, 'stalled-clone');
    assert.equal(await git.revParse(clone, 'HEAD'), second);
  },
);
