import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe } from 'node:test';
import { loadConfig, openStores } from '@gitfleet/server';
import { selectedStorage, type StorageBackend } from '@gitfleet/test-support/server-storage';
import { GitClient } from '@gitfleet/test-support/git-client';
import { adminHeaders, serverTest, startServer, type TestServer } from '@gitfleet/test-support/server';
import { api, eventually, LOOPBACK_RECEIVERS_ENV, WebhookReceiver, type ReceivedDelivery } from './helpers/webhooks.js';

// Webhooks facing hostile accounts: where hooks may point, what payloads say about the
// repository and the server, and what is left of an owner's or a repository's hooks once it is
// gone. Runs on the backend GITFLEET_E2E_BACKEND selects.

const SECRET = 'hostile secret';
const ATTACKER_HOST = 'attacker.example';

let storage: StorageBackend;
/** Allows loopback receivers (as a deployment with internal CI would). */
let server: TestServer;
/** As deployed by default: hooks reach public addresses only. */
let strict: TestServer;
let git: GitClient;
const test = serverTest(() => [server, strict]);

before(async () => {
  storage = await selectedStorage();
  [server, strict] = await Promise.all([
    startServer(
      { ...LOOPBACK_RECEIVERS_ENV, GITFLEET_HOOK_POLL_MS: '50', GITFLEET_HOOK_BACKOFF_MS: '50', GITFLEET_HOOK_TIMEOUT_MS: '3000' },
      { storage },
    ),
    startServer({}),
  ]);
  git = await GitClient.create(0);
});

after(async () => {
  await Promise.all([server?.stop(), strict?.stop()]);
  await storage?.dispose();
  await git?.cleanup();
});

/** A request with a Host header of the caller's choosing (fetch() sends its own). */
function withHost(baseUrl: string, method: string, path: string, host: string, body?: unknown): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const headers = adminHeaders({ host, ...(body === undefined ? {} : { 'content-type': 'application/json' }) });
    const request = http.request({ host: hostname, port, path: `/api/v1${path}`, method, headers, agent: false }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
    });
    request.on('error', reject);
    request.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** Every key left in a KV scope of the server's stores. */
async function keysOf(scope: string): Promise<string[]> {
  const stores = await openStores(loadConfig({ ...storage.env, GITFLEET_DATA_DIR: server.dataDir, LOG_LEVEL: 'silent' }));
  try {
    return (await stores.kv.scan(scope, '')).map(({ key }) => key);
  } finally {
    await stores.close();
  }
}

function assertOwnUrls(payload: Record<string, unknown>, what: string): void {
  const text = JSON.stringify(payload);
  assert.ok(!text.includes(ATTACKER_HOST), `${what}: no URL from the request's Host header: ${text.slice(0, 400)}`);
  const repository = payload.repository as Record<string, unknown> | undefined;
  if (repository) {
    assert.equal(repository.clone_url, `${server.url}/${repository.full_name as string}.git`, `${what}: clone_url`);
    assert.equal(repository.html_url, `${server.url}/${repository.full_name as string}`, `${what}: html_url`);
  }
}

describe('hook targets', () => {
  test('hooks aimed at loopback, link-local, private, CGNAT or mapped addresses are refused when saved (422)', async () => {
    await strict.createRepository('mallory', 'probe');
    const targets = [
      'http://127.0.0.1:8080/hook',
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.1/hook',
      'http://100.64.0.1/hook',
      'http://[::1]/hook',
      'http://[::ffff:127.0.0.1]/hook',
      'http://0x7f.1/hook',
      'http://[fd00::1]/hook',
      'http://localhost:9/hook',
    ];
    for (const url of targets) {
      const refused = await api<{ message: string }>(strict.url, 'POST', '/repos/mallory/probe/hooks', {
        config: { url },
        events: ['push'],
      });
      assert.equal(refused.status, 422, `${url}: ${JSON.stringify(refused.body)}`);
      assert.match(
        refused.body.message,
        /config\.url: .*(loopback|link-local|private|shared|unique local).*GITFLEET_HOOK_ALLOWED_NETWORKS/,
        url,
      );
    }
    assert.deepEqual((await api(strict.url, 'GET', '/repos/mallory/probe/hooks', undefined, 200)).body, [], 'nothing was saved');

    // A public target is fine; moving it to a refused one is not.
    const hook = (
      await api<{ id: number }>(
        strict.url,
        'POST',
        '/repos/mallory/probe/hooks',
        { config: { url: 'http://192.0.32.10/hook' }, events: ['push'], active: false },
        201,
      )
    ).body;
    const moved = await api<{ message: string }>(strict.url, 'PATCH', `/repos/mallory/probe/hooks/${hook.id}`, {
      config: { url: 'http://169.254.169.254/' },
    });
    assert.equal(moved.status, 422);
    const kept = (await api<{ config: { url: string } }>(strict.url, 'GET', `/repos/mallory/probe/hooks/${hook.id}`, undefined, 200)).body;
    assert.equal(kept.config.url, 'http://192.0.32.10/hook');
  });

  test('a catastrophic branch filter is refused when saved, with what is wrong', async () => {
    await strict.createRepository('mallory', 'globs');
    const refused = await api<{ message: string }>(strict.url, 'POST', '/repos/mallory/globs/hooks', {
      config: { url: 'http://192.0.32.10/hook' },
      active: false,
      branch_filter: '*a'.repeat(40),
    });
    assert.equal(refused.status, 422);
    assert.match(refused.body.message, /branch_filter: .* has 40 wildcards .* at most 32 are allowed/);
  });

  test("a repository takes at most 20 hooks (GitHub's limit): each one multiplies the work of every push", async () => {
    await strict.createRepository('mallory', 'many-hooks');
    const create = () =>
      api<{ message: string }>(strict.url, 'POST', '/repos/mallory/many-hooks/hooks', {
        config: { url: 'http://192.0.32.10/hook' },
        active: false,
      });
    for (let i = 0; i < 20; i++) assert.equal((await create()).status, 201);
    const refused = await create();
    assert.equal(refused.status, 422);
    assert.match(refused.body.message, /maximum of 20 hooks/);
    assert.equal((await api<unknown[]>(strict.url, 'GET', '/repos/mallory/many-hooks/hooks', undefined, 200)).body.length, 20);
  });
});

describe('payloads', () => {
  test('say the repository is private, and link to the configured server whatever Host the requests named', async () => {
    const receiver = new WebhookReceiver(SECRET);
    await receiver.start();
    try {
      const { url: cloneUrl } = await server.createRepository('hostile', 'secret', { private: true });
      await api(server.url, 'POST', '/repos/hostile/secret/hooks', { config: { url: receiver.url, secret: SECRET }, events: ['*'] }, 201);
      const ping = await withHost(server.url, 'POST', '/repos/hostile/secret/hooks', ATTACKER_HOST, {
        config: { url: receiver.url, secret: SECRET },
        events: ['status'],
      });
      assert.equal(ping.status, 201, ping.text);

      const work = await git.init('hostile');
      const tip = await git.commitFiles(work, { 'a.txt': 'a\n' }, 'first');
      await git.ok(['-c', `http.extraHeader=Host: ${ATTACKER_HOST}`, 'push', cloneUrl, 'HEAD:refs/heads/main'], { cwd: work });
      const status = await withHost(server.url, 'POST', `/repos/hostile/secret/statuses/${tip}`, ATTACKER_HOST, {
        state: 'success',
        context: 'ci',
      });
      assert.equal(status.status, 201, status.text);

      const byEvent = (event: string) => (all: ReceivedDelivery[]) => all.filter((delivery) => delivery.event === event);
      await receiver.waitFor('ping, create, push and status', (all) =>
        ['ping', 'create', 'push', 'status'].every((event) => byEvent(event)(all).length > 0),
      );
      for (const delivery of receiver.accepted) {
        assertOwnUrls(delivery.payload, delivery.event);
        const repository = delivery.payload.repository as { private: boolean; visibility: string };
        assert.equal(repository.private, true, `${delivery.event}: private`);
        assert.equal(repository.visibility, 'private', `${delivery.event}: visibility`);
      }
    } finally {
      await receiver.stop();
    }
  });
});

describe('deletion', () => {
  test("an organisation's hooks and delivery logs go with it; the next organisation of that name sees none", async () => {
    const receiver = new WebhookReceiver(SECRET);
    await receiver.start();
    try {
      const org = (await api<{ id: string }>(server.url, 'POST', '/orgs', { username: 'doomed' }, 201)).body;
      const { id: repositoryId } = await server.createRepository('doomed', 'app', { private: true });
      const orgHook = (
        await api<{ id: number }>(
          server.url,
          'POST',
          '/orgs/doomed/hooks',
          { config: { url: receiver.url, secret: SECRET }, events: ['*'] },
          201,
        )
      ).body;
      const repoHook = (
        await api<{ id: number }>(
          server.url,
          'POST',
          '/repos/doomed/app/hooks',
          { config: { url: receiver.url, secret: SECRET }, events: ['*'] },
          201,
        )
      ).body;
      await receiver.waitFor('both pings', (all) => all.filter((delivery) => delivery.event === 'ping').length === 2);
      const work = await git.init('doomed');
      const head = await git.commitFiles(work, { 'a.txt': 'a\n' }, 'first');
      await git.ok(['push', `${server.url}/doomed/app.git`, 'HEAD:refs/heads/main'], { cwd: work });
      await api(server.url, 'POST', `/repos/doomed/app/statuses/${head}`, { state: 'pending', context: 'ci' }, 201);
      await eventually('both delivery logs', async () => {
        const [orgLog, repoLog] = await Promise.all([
          api<unknown[]>(server.url, 'GET', `/orgs/doomed/hooks/${orgHook.id}/deliveries`, undefined, 200),
          api<unknown[]>(server.url, 'GET', `/repos/doomed/app/hooks/${repoHook.id}/deliveries`, undefined, 200),
        ]);
        return orgLog.body.length > 1 && repoLog.body.length > 1 ? true : undefined;
      });
      assert.ok((await keysOf(`hooks:repo:${repositoryId}`)).length > 0);
      assert.ok((await keysOf(`statuses:${repositoryId}`)).length > 0);
      assert.ok((await keysOf(`hooks:owner-id:${org.id}`)).length > 0);

      await api(server.url, 'DELETE', '/repos/doomed/app', undefined, 204);
      assert.deepEqual(await keysOf(`hooks:repo:${repositoryId}`), [], "the repository's hooks and delivery logs are gone");
      assert.deepEqual(await keysOf(`statuses:${repositoryId}`), [], "the repository's statuses are gone");

      await api(server.url, 'DELETE', '/orgs/doomed', undefined, 204);
      assert.deepEqual(await keysOf(`hooks:owner-id:${org.id}`), [], "the organisation's hooks and delivery logs are gone");

      const reborn = (await api<{ id: string }>(server.url, 'POST', '/orgs', { username: 'doomed' }, 201)).body;
      assert.notEqual(reborn.id, org.id);
      assert.deepEqual((await api(server.url, 'GET', '/orgs/doomed/hooks', undefined, 200)).body, []);
      assert.equal((await api(server.url, 'GET', `/orgs/doomed/hooks/${orgHook.id}/deliveries`)).status, 404);
    } finally {
      await receiver.stop();
    }
  });
});
