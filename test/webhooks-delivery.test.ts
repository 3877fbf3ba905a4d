// Webhooks end to end: real pushes with the git CLI, a real receiver on 127.0.0.1 that
// verifies signatures with @octokit/webhooks, receivers that fail or are down, a server
// killed with SIGKILL while deliveries are pending, the delivery log and redelivery.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GitClient } from '@gitfleet/test-support/git-client';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { TEST_ADMIN, TEST_ADMIN_EMAIL, ensureUser } from '@gitfleet/test-support/server';
import { api, eventually, LOOPBACK_RECEIVERS_ENV, spawnServer, WebhookReceiver, type ServerProcess } from './helpers/webhooks.js';

const SECRET = 'It’s a Secret to Everybody';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Short backoff so that retries happen within a test; generous attempts so none is given up. */
const HOOK_ENV = {
  ...LOOPBACK_RECEIVERS_ENV,
  GITFLEET_HOOK_BACKOFF_MS: '50',
  GITFLEET_HOOK_MAX_BACKOFF_MS: '400',
  GITFLEET_HOOK_MAX_ATTEMPTS: '200',
  GITFLEET_HOOK_POLL_MS: '50',
  GITFLEET_HOOK_TIMEOUT_MS: '3000',
  GITFLEET_HOOK_DISABLE_AFTER: '3',
  GITFLEET_HOOK_LEASE_MS: '1000',
  LOG_LEVEL: 'info',
};

interface HookJson {
  id: number;
  active: boolean;
  events: string[];
  config: Record<string, string>;
  last_response: { code: number | null; status: string };
}
interface DeliveryRow {
  id: number;
  guid: string;
  event: string;
  status_code: number;
  redelivery: boolean;
  attempt: number;
}

let server: ServerProcess;
let git: GitClient;
let repoNumber = 0;

after(async () => {
  await server?.kill('SIGTERM');
  await git?.cleanup();
});
// After the hook that stops the server: after-hooks run in order, so the server stops before its data goes.
const dataDir = tempDir({ after }, 'webhooks');
before(async () => {
  server = await spawnServer(dataDir, HOOK_ENV);
  git = await GitClient.create(0);
  await ensureUser(server.url, 'ci');
});

/** A fresh repository with a hook to `receiver` for push, create and delete; returns a local clone wired to it. */
async function repoWithHook(receiver: WebhookReceiver, extra: Record<string, unknown> = {}) {
  const name = `hooks-${++repoNumber}`;
  await api(server.url, 'POST', '/repos', { owner: 'ci', name }, 201);
  const hook = await api<HookJson>(
    server.url,
    'POST',
    `/repos/ci/${name}/hooks`,
    {
      name: 'web',
      config: { url: receiver.url, content_type: 'json', secret: SECRET },
      events: ['push', 'create', 'delete'],
      active: true,
      ...extra,
    },
    201,
  );
  const work = await git.init(name);
  await git.ok(['remote', 'add', 'origin', `${server.url}/ci/${name}.git`], { cwd: work });
  return { name, hook: hook.body, work };
}

function forRef(receiver: WebhookReceiver, ref: string) {
  return receiver.accepted.filter((d) => d.payload.ref === ref || d.payload.ref === ref.replace(/^refs\/(heads|tags)\//, ''));
}

describe('webhooks', () => {
  test('a new hook is pinged, and a push delivers create and push, signed in both dialects', async () => {
    const receiver = new WebhookReceiver(SECRET);
    await receiver.start();
    try {
      const { name, hook, work } = await repoWithHook(receiver);
      assert.equal(hook.config.secret, '********', 'the secret is never shown');
      await receiver.waitFor('the ping', (all) => all.some((d) => d.event === 'ping'));
      const ping = receiver.accepted.find((d) => d.event === 'ping')!;
      assert.equal(ping.headers['x-github-hook-id'], String(hook.id));
      assert.equal(ping.payload.hook_id, hook.id);

      const tip = await git.commitFiles(work, { 'a.txt': 'a\n' }, 'first');
      await git.ok(['push', 'origin', 'main'], { cwd: work });
      await receiver.waitFor('create and push of main', () => forRef(receiver, 'refs/heads/main').length === 2);
      const [create, push] = [
        forRef(receiver, 'refs/heads/main').find((d) => d.event === 'create')!,
        forRef(receiver, 'refs/heads/main').find((d) => d.event === 'push')!,
      ];
      assert.ok(create && push, 'one create and one push');
      assert.equal(push.payload.after, tip);
      assert.equal(push.payload.created, true);
      // The pusher is who authenticated the push (the test git sends TEST_ADMIN's token).
      assert.deepEqual(push.payload.pusher, { name: TEST_ADMIN, email: TEST_ADMIN_EMAIL });
      for (const delivery of [ping, create, push]) {
        assert.match(delivery.guid, UUID);
        assert.equal(delivery.headers['x-gitea-delivery'], delivery.guid);
        assert.equal(delivery.headers['x-gitea-event'], delivery.event);
        assert.match(String(delivery.headers['user-agent']), /^Gitfleet-Hookshot\//);
        assert.equal(delivery.headers['content-type'], 'application/json');
      }
      assert.equal(new Set([ping.guid, create.guid, push.guid]).size, 3, 'each delivery has its own id');
      assert.deepEqual(receiver.rejected, []);

      // The delivery log has each attempt with request and response.
      const rows = (await api<DeliveryRow[]>(server.url, 'GET', `/repos/ci/${name}/hooks/${hook.id}/deliveries`, undefined, 200)).body;
      assert.deepEqual(rows.map((row) => row.event).sort(), ['create', 'ping', 'push']);
      const pushRow = rows.find((row) => row.event === 'push')!;
      assert.equal(pushRow.guid, push.guid);
      assert.equal(pushRow.status_code, 200);
      const detail = (
        await api<{ request: { headers: Record<string, string>; payload: { after: string } }; response: { payload: string } }>(
          server.url,
          'GET',
          `/repos/ci/${name}/hooks/${hook.id}/deliveries/${pushRow.id}`,
          undefined,
          200,
        )
      ).body;
      assert.equal(detail.request.headers['X-GitHub-Delivery'], push.guid);
      assert.equal(detail.request.payload.after, tip);
      assert.equal(detail.response.payload, 'got push');
    } finally {
      await receiver.stop();
    }
  });

  test('a rejected push produces no delivery', async () => {
    const receiver = new WebhookReceiver(SECRET);
    await receiver.start();
    try {
      const { work } = await repoWithHook(receiver);
      await git.commitFiles(work, { 'a.txt': 'a\n' }, 'first');
      await git.ok(['push', 'origin', 'main'], { cwd: work });
      await receiver.waitFor('the first push', () => forRef(receiver, 'refs/heads/main').length === 2);
      // A non-fast-forward without --force is refused by the server.
      await git.ok(['commit', '-q', '--amend', '-m', 'rewritten'], { cwd: work });
      const refused = await git.fails(['push', 'origin', 'main'], { cwd: work });
      assert.match(refused.stderr, /rejected/);
      // A later push is delivered; the refused one, queued before it if at all, would be too.
      await git.ok(['push', 'origin', 'main:marker'], { cwd: work });
      await receiver.waitFor('the marker push', () => forRef(receiver, 'refs/heads/marker').length === 2);
      assert.equal(forRef(receiver, 'refs/heads/main').length, 2, 'nothing more about main');
    } finally {
      await receiver.stop();
    }
  });

  test('a failing, then unreachable receiver gets every event once it is back, each retry with the same delivery id', async () => {
    const receiver = new WebhookReceiver(SECRET);
    await receiver.start();
    try {
      const { name, hook, work } = await repoWithHook(receiver);
      await receiver.waitFor('the ping', (all) => all.some((d) => d.event === 'ping'));
      receiver.answer = 503;
      await git.commitFiles(work, { 'a.txt': 'a\n' }, 'first');
      await git.ok(['push', 'origin', 'main'], { cwd: work });
      await eventually('two 503 answers to the push', async () =>
        receiver.seen.filter((d) => d.event === 'push').length >= 2 ? true : undefined,
      );
      await receiver.stop(); // now connections are refused
      await git.ok(['tag', 'v1'], { cwd: work });
      await git.ok(['push', 'origin', 'v1', 'main:side'], { cwd: work });
      await eventually('refused attempts logged', async () => {
        const rows = (await api<DeliveryRow[]>(server.url, 'GET', `/repos/ci/${name}/hooks/${hook.id}/deliveries?per_page=100`)).body;
        return rows.some((row) => row.status_code === 0) ? true : undefined;
      });
      receiver.answer = 200;
      await receiver.start();
      await receiver.waitFor('every event', () =>
        ['refs/heads/main', 'refs/tags/v1', 'refs/heads/side'].every((ref) => forRef(receiver, ref).length === 2),
      );
      assert.deepEqual(receiver.rejected, []);

      const pushOfMain = forRef(receiver, 'refs/heads/main').find((d) => d.event === 'push')!;
      const failedTries = receiver.seen.filter((d) => d.event === 'push' && d.body === pushOfMain.body);
      assert.ok(failedTries.length >= 3, 'the push of main was tried at least twice before it went through');
      assert.deepEqual(
        new Set(failedTries.map((d) => d.guid)),
        new Set([pushOfMain.guid]),
        'every attempt carried the same X-GitHub-Delivery',
      );
      const rows = (await api<DeliveryRow[]>(server.url, 'GET', `/repos/ci/${name}/hooks/${hook.id}/deliveries?per_page=100`)).body;
      const attempts = rows.filter((row) => row.guid === pushOfMain.guid);
      assert.ok(attempts.some((row) => row.status_code === 503) && attempts.some((row) => row.status_code === 200));
      const current = (await api<HookJson>(server.url, 'GET', `/repos/ci/${name}/hooks/${hook.id}`)).body;
      assert.equal(current.active, true, 'retried deliveries that went through do not deactivate the hook');
    } finally {
      await receiver.stop();
    }
  });

  test('deliveries pending when the server is killed are delivered by the restarted server', async () => {
    const receiver = new WebhookReceiver(SECRET);
    await receiver.start();
    try {
      const { name, hook, work } = await repoWithHook(receiver);
      await receiver.waitFor('the ping', (all) => all.some((d) => d.event === 'ping'));
      await receiver.stop();
      await git.commitFiles(work, { 'a.txt': 'a\n' }, 'first');
      await git.ok(['push', 'origin', 'main'], { cwd: work });
      await eventually('a refused attempt', async () => {
        const rows = (await api<DeliveryRow[]>(server.url, 'GET', `/repos/ci/${name}/hooks/${hook.id}/deliveries`)).body;
        return rows.some((row) => row.event === 'push' && row.status_code === 0) ? true : undefined;
      });
      await server.kill('SIGKILL');
      await receiver.start();
      server = await spawnServer(dataDir, HOOK_ENV);
      await receiver.waitFor('create and push after the restart', () => forRef(receiver, 'refs/heads/main').length === 2);
      const rows = (await api<DeliveryRow[]>(server.url, 'GET', `/repos/ci/${name}/hooks/${hook.id}/deliveries`)).body;
      const push = forRef(receiver, 'refs/heads/main').find((d) => d.event === 'push')!;
      assert.ok(
        rows.filter((row) => row.guid === push.guid).some((row) => row.status_code === 0),
        'the delivery that went through is the one that failed before the kill',
      );
    } finally {
      await receiver.stop();
    }
  });

  test('redelivery resends a logged delivery with its id; a hook that keeps failing is deactivated', async () => {
    const receiver = new WebhookReceiver(SECRET);
    await receiver.start();
    try {
      const { name, hook, work } = await repoWithHook(receiver);
      await receiver.waitFor('the ping', (all) => all.some((d) => d.event === 'ping'));
      const ping = receiver.accepted.find((d) => d.event === 'ping')!;
      const [row] = (await api<DeliveryRow[]>(server.url, 'GET', `/repos/ci/${name}/hooks/${hook.id}/deliveries`)).body;
      await api(server.url, 'POST', `/repos/ci/${name}/hooks/${hook.id}/deliveries/${row.id}/attempts`, undefined, 202);
      await receiver.waitFor('the redelivered ping', (all) => all.filter((d) => d.guid === ping.guid).length === 2);
      const rows = (await api<DeliveryRow[]>(server.url, 'GET', `/repos/ci/${name}/hooks/${hook.id}/deliveries`)).body;
      assert.equal(rows.filter((r) => r.guid === ping.guid && r.redelivery).length, 1);

      await git.commitFiles(work, { 'a.txt': 'a\n' }, 'first');
      await git.ok(['push', 'origin', 'main'], { cwd: work });
      await receiver.waitFor('the first push', () => forRef(receiver, 'refs/heads/main').length === 2);
      // 400 is not retried: each push's delivery fails for good at once; three in a row (the
      // configured run) deactivate the hook.
      receiver.answer = 400;
      for (const n of [1, 2, 3]) {
        await git.commitFiles(work, { 'n.txt': `${n}\n` }, `commit ${n}`);
        await git.ok(['push', 'origin', 'main'], { cwd: work });
        await eventually(`push ${n} refused`, async () => (receiver.seen.filter((d) => d.event === 'push').length >= n ? true : undefined));
      }
      const current = await eventually('the hook deactivated', async () => {
        const body = (await api<HookJson>(server.url, 'GET', `/repos/ci/${name}/hooks/${hook.id}`)).body;
        return body.active ? undefined : body;
      });
      assert.equal(current.last_response.code, 400);
      await api(server.url, 'POST', `/repos/ci/${name}/hooks/${hook.id}/deliveries/${row.id}/attempts`, undefined, 422);
      await api(server.url, 'PATCH', `/repos/ci/${name}/hooks/${hook.id}`, { active: true }, 200);
    } finally {
      await receiver.stop();
    }
  });

  test("a commit status is delivered as GitHub's status event to hooks that want it", async () => {
    const receiver = new WebhookReceiver(SECRET);
    await receiver.start();
    try {
      const { name, hook, work } = await repoWithHook(receiver, { events: ['status'] });
      await receiver.waitFor('the ping', (all) => all.some((d) => d.event === 'ping'));
      const tip = await git.commitFiles(work, { 'a.txt': 'a\n' }, 'first');
      await git.ok(['push', 'origin', 'main'], { cwd: work });
      const status = { state: 'failure', target_url: 'https://ci.example.com/builds/7', description: '2 tests failed', context: 'ci/test' };
      const created = await api<{ id: number }>(server.url, 'POST', `/repos/ci/${name}/statuses/${tip}`, status, 201);
      await receiver.waitFor('the status event', (all) => all.some((d) => d.event === 'status'));
      const delivery = receiver.accepted.find((d) => d.event === 'status')!;
      assert.equal(delivery.headers['x-github-hook-id'], String(hook.id));
      assert.deepEqual(
        {
          id: delivery.payload.id,
          sha: delivery.payload.sha,
          ...Object.fromEntries(Object.keys(status).map((key) => [key, delivery.payload[key]])),
        },
        { id: created.body.id, sha: tip, ...status },
      );
      assert.deepEqual(
        (delivery.payload.branches as Array<{ name: string }>).map((branch) => branch.name),
        ['main'],
      );
    } finally {
      await receiver.stop();
    }
  });

  test('hook API: validation, update, delete, organisation hooks', async () => {
    await api(server.url, 'POST', '/orgs', { username: 'org1' }, 201);
    await api(server.url, 'POST', '/repos', { owner: 'org1', name: 'app' }, 201);
    await api(server.url, 'POST', '/repos/org1/app/hooks', { config: { url: 'ftp://x' } }, 422);
    await api(server.url, 'POST', '/repos/org1/app/hooks', { config: { url: 'http://127.0.0.1:9/' }, events: ['nonsense'] }, 422);
    await api(server.url, 'GET', '/repos/org1/nope/hooks', undefined, 404);
    const receiver = new WebhookReceiver(SECRET);
    await receiver.start();
    try {
      const created = (
        await api<HookJson>(
          server.url,
          'POST',
          '/orgs/org1/hooks',
          {
            type: 'gitea',
            config: { url: receiver.url, content_type: 'json', secret: SECRET },
            events: ['push'],
            branch_filter: 'release/*',
          },
          201,
        )
      ).body;
      const work = await git.init('org1-app');
      await git.commitFiles(work, { 'a.txt': 'a\n' }, 'first');
      await git.ok(['remote', 'add', 'origin', `${server.url}/org1/app.git`], { cwd: work });
      await git.ok(['push', 'origin', 'main', 'main:release/1'], { cwd: work });
      await receiver.waitFor('the push of release/1', () => forRef(receiver, 'refs/heads/release/1').length === 1);
      assert.deepEqual(forRef(receiver, 'refs/heads/main'), [], 'the branch filter keeps main out');
      assert.ok(receiver.accepted.some((d) => d.event === 'ping' && (d.payload.organization as { login: string }).login === 'org1'));

      const patched = (await api<HookJson>(server.url, 'PATCH', `/orgs/org1/hooks/${created.id}`, { add_events: ['delete'] }, 200)).body;
      assert.deepEqual(patched.events, ['push', 'delete']);
      assert.equal((await api<HookJson[]>(server.url, 'GET', '/orgs/org1/hooks', undefined, 200)).body.length, 1);
      await api(server.url, 'DELETE', `/orgs/org1/hooks/${created.id}`, undefined, 204);
      await api(server.url, 'GET', `/orgs/org1/hooks/${created.id}`, undefined, 404);
    } finally {
      await receiver.stop();
    }
  });
});
