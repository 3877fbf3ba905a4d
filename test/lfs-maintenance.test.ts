/**
 * Git LFS objects no reachable pointer references are collected by `gitfleet maintenance run`
 * after the grace period, with the real git-lfs client: push two files, force-push one of them
 * away, and the object of that one is sighted by a first run, deleted by a run a grace period
 * later, and answered 404 by the batch API; the other stays downloadable.
 *
 * The grace period is the smallest the configuration allows (above the 30 s registry view age
 * plus the request timeout), so this file waits about half a minute.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MaintenanceReport } from '@gitfleet/repository';
import { runCli } from '@gitfleet/test-support/cli';
import { selectedBackend } from '@gitfleet/test-support/server-storage';
import { GitClient } from '@gitfleet/test-support/git-client';
import { serverTest, startServer, testPassword, type ServerProcess } from '@gitfleet/test-support/server';

const OWNER = 'lena';
const GRACE_SECONDS = 31;
const MAINTENANCE_ENV = { GITFLEET_PACK_GRACE_SECONDS: String(GRACE_SECONDS), GITFLEET_REQUEST_TIMEOUT_MS: '500' };

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

// The collector is the same code over every store (packages/repository/test/maintenance-lfs.test.ts
// runs it over memory, files + SQLite, and S3 + Redis): end to end it runs on one backend, for
// the half minute its grace period takes.
const skip = selectedBackend() === 'distributed' ? 'run on the embedded backend only (see above)' : false;

describe('Git LFS objects collected by maintenance', { skip }, () => {
  let server: ServerProcess;
  let client: GitClient;
  const test = serverTest(() => server);

  before(async () => {
    server = await startServer({ GITFLEET_MAINTENANCE: '0' });
    client = await GitClient.create(2, { authorization: null });
    await client.ok(['lfs', 'install']);
  });

  after(async () => {
    await client?.cleanup();
    await server?.stop();
  });

  async function maintain(repo: string): Promise<MaintenanceReport> {
    const run = await runCli(['maintenance', 'run', repo, '--json'], { ...server.cliEnv, ...MAINTENANCE_ENV });
    assert.equal(run.code, 0, `maintenance run failed:\n${run.stderr}`);
    return JSON.parse(run.stdout) as MaintenanceReport;
  }

  async function downloadAnswer(repo: string, object: Buffer): Promise<{ error?: { code: number }; actions?: unknown }> {
    const response = await fetch(`${server.url}/${repo}.git/info/lfs/objects/batch`, {
      method: 'POST',
      headers: {
        accept: 'application/vnd.git-lfs+json',
        'content-type': 'application/vnd.git-lfs+json',
        authorization: `Basic ${Buffer.from(`${OWNER}:${testPassword(OWNER)}`).toString('base64')}`,
      },
      body: JSON.stringify({ operation: 'download', objects: [{ oid: sha256(object), size: object.length }] }),
    });
    assert.equal(response.status, 200);
    return ((await response.json()) as { objects: Array<{ error?: { code: number }; actions?: unknown }> }).objects[0];
  }

  test('an object a force push left unreferenced is deleted a grace period after a run first saw it', async () => {
    const created = await server.createRepository(OWNER, 'gc');
    const url = new URL(created.url);
    url.username = OWNER;
    url.password = testPassword(OWNER);
    const kept = randomBytes(50 * 1024);
    const gone = randomBytes(60 * 1024);
    const work = await client.init('pusher');
    await client.ok(['lfs', 'install', '--local'], { cwd: work });
    await client.ok(['lfs', 'track', '*.bin'], { cwd: work });
    await client.commitFiles(work, { 'kept.bin': kept }, 'kept');
    await client.commitFiles(work, { 'gone.bin': gone }, 'gone');
    await client.ok(['push', '-q', url.toString(), 'main'], { cwd: work });
    await client.ok(['reset', '-q', '--hard', 'HEAD~1'], { cwd: work });
    await client.ok(['push', '-q', '--force', url.toString(), 'main'], { cwd: work });

    const first = await maintain(`${OWNER}/gc`);
    assert.deepEqual(first.lfs.sighted, [sha256(gone)]);
    assert.deepEqual(first.lfs.collected, []);
    assert.ok((await downloadAnswer(`${OWNER}/gc`, gone)).actions, 'kept within the grace period');

    await sleep((GRACE_SECONDS + 1) * 1000);
    const second = await maintain(`${OWNER}/gc`);
    assert.deepEqual(second.lfs.collected, [sha256(gone)]);
    assert.equal((await downloadAnswer(`${OWNER}/gc`, gone)).error?.code, 404);
    assert.ok((await downloadAnswer(`${OWNER}/gc`, kept)).actions, 'the object a pointer references stays');
  });
});
