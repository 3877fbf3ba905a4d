// Webhooks in the distributed mode: two server processes on one Redis (KV store and BullMQ
// queues) and one blob directory. Every event is delivered exactly once between them, and
// retried deliveries keep their id; the events of a third process killed right after a ref
// update are delivered by the other two. Needs the Redis that scripts/test.sh starts.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { GitClient } from '@gitfleet/test-support/git-client';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { ensureUser } from '@gitfleet/test-support/server';
import { api, eventually, LOOPBACK_RECEIVERS_ENV, spawnServer, WebhookReceiver, type ServerProcess } from './helpers/webhooks.js';

const redisUrl = process.env.GITFLEET_TEST_REDIS_URL;
const SECRET = 'shared secret';

const skip = process.env.GITFLEET_SKIP_REMOTE_STORES === '1' ? 'GITFLEET_SKIP_REMOTE_STORES=1' : false;
if (!skip && !redisUrl)
  throw new Error(
    'GITFLEET_TEST_REDIS_URL is not set: start Redis with `eval "$(scripts/servers/redis.sh start)"` (or set GITFLEET_SKIP_REMOTE_STORES=1)',
  );

describe('webhooks on Redis with two server processes', { skip }, () => {
  let env: Record<string, string>;
  let servers: ServerProcess[] = [];
  let git: GitClient;

  before(async () => {
    env = {
      ...LOOPBACK_RECEIVERS_ENV,
      GITFLEET_KV_BACKEND: 'redis',
      GITFLEET_REDIS_URL: redisUrl!,
      GITFLEET_REDIS_NAMESPACE: `wh-${randomUUID().slice(0, 8)}`,
      GITFLEET_HOOK_BACKOFF_MS: '50',
      GITFLEET_HOOK_MAX_BACKOFF_MS: '300',
      GITFLEET_HOOK_MAX_ATTEMPTS: '100',
      GITFLEET_HOOK_TIMEOUT_MS: '3000',
    };
    servers = await Promise.all([spawnServer(dataDir, env), spawnServer(dataDir, env)]);
    git = await GitClient.create(0);
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.kill('SIGTERM')));
    await git?.cleanup();
  });
  // After the hook that stops the servers: after-hooks run in order, so they stop before their data goes.
  const dataDir = tempDir({ after }, 'webhooks-redis');

  test('every event is delivered exactly once, through outages, whichever process takes it', async () => {
    const [a, b] = servers;
    const receiver = new WebhookReceiver(SECRET);
    await receiver.start();
    try {
      await ensureUser(a.url, 'dist');
      await api(a.url, 'POST', '/repos', { owner: 'dist', name: 'app' }, 201);
      await api(b.url, 'POST', '/repos/dist/app/hooks', { config: { url: receiver.url, secret: SECRET }, events: ['push', 'create'] }, 201);
      await receiver.waitFor('the ping', (all) => all.some((d) => d.event === 'ping'));
      receiver.answer = 502;

      const work = await git.init('dist-app');
      await git.commitFiles(work, { 'a.txt': 'a\n' }, 'first');
      const branches = ['b1', 'b2', 'b3', 'b4'];
      for (const [index, branch] of branches.entries()) {
        const server = index % 2 ? a : b;
        await git.ok(['push', `${server.url}/dist/app.git`, `HEAD:refs/heads/${branch}`], { cwd: work });
      }
      await eventually('every push refused at least once', async () =>
        branches.every((branch) => receiver.seen.some((d) => d.event === 'push' && d.body.includes(`"refs/heads/${branch}"`)))
          ? true
          : undefined,
      );
      receiver.answer = 200;
      await receiver.waitFor('create and push of every branch', (all) =>
        branches.every((branch) => all.filter((d) => d.payload.ref === `refs/heads/${branch}` || d.payload.ref === branch).length === 2),
      );
      const guids = receiver.accepted.map((d) => d.guid);
      assert.equal(new Set(guids).size, guids.length, 'no delivery accepted twice');
      for (const delivery of receiver.accepted) {
        const tries = receiver.seen.filter((d) => d.body === delivery.body);
        assert.deepEqual(new Set(tries.map((d) => d.guid)), new Set([delivery.guid]), 'retries keep the delivery id');
      }
      assert.deepEqual(receiver.rejected, []);
    } finally {
      await receiver.stop();
    }
  });

  test('a process killed right after a ref update has its events delivered by the others', async () => {
    const receiver = new WebhookReceiver(SECRET);
    await receiver.start();
    const doomed = await spawnServer(dataDir, {
      ...env,
      GITFLEET_TEST_CRASH_AFTER_REF_UPDATE: '1',
      GITFLEET_HOOK_RECOVERY_DELAY_MS: '300',
    });
    try {
      await ensureUser(doomed.url, 'dist');
      await api(doomed.url, 'POST', '/repos', { owner: 'dist', name: 'crash' }, 201);
      await api(
        doomed.url,
        'POST',
        '/repos/dist/crash/hooks',
        { config: { url: receiver.url, secret: SECRET }, events: ['push', 'create'] },
        201,
      );
      await receiver.waitFor('the ping', (all) => all.some((d) => d.event === 'ping'));
      const work = await git.init('dist-crash');
      const tip = await git.commitFiles(work, { 'a.txt': 'a\n' }, 'first');
      await git.fails(['push', `${doomed.url}/dist/crash.git`, 'HEAD:refs/heads/main'], { cwd: work });
      await doomed.exited;
      await receiver.waitFor(
        'create and push from the surviving processes',
        (all) => all.filter((d) => d.payload.ref === 'refs/heads/main' || d.payload.ref === 'main').length === 2,
      );
      const push = receiver.accepted.find((d) => d.event === 'push')!;
      assert.equal(push.payload.after, tip);
      assert.deepEqual(receiver.rejected, []);
    } finally {
      await doomed.kill('SIGKILL');
      await receiver.stop();
    }
  });
});
