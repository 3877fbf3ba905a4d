// Deliveries that fail for good become dead letters, end to end: a real push with git, a
// receiver that fails until told otherwise, a short retry schedule; the dead letters listed by
// the API (paged) and on the hook's web page, replayed from both with their X-GitHub-Delivery,
// and gone from the list once they arrive.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GitClient } from '@gitfleet/test-support/git-client';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { TEST_ADMIN, TEST_ADMIN_PASSWORD, adminHeaders, ensureUser } from '@gitfleet/test-support/server';
import { api, eventually, LOOPBACK_RECEIVERS_ENV, spawnServer, WebhookReceiver, type ServerProcess } from './helpers/webhooks.js';

const SECRET = 'dead letter secret';
const MAX_ATTEMPTS = 3;
const HOOK_ENV = {
  ...LOOPBACK_RECEIVERS_ENV,
  GITFLEET_HOOK_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
  GITFLEET_HOOK_BACKOFF_MS: '50',
  GITFLEET_HOOK_MAX_BACKOFF_MS: '200',
  GITFLEET_HOOK_POLL_MS: '50',
  GITFLEET_HOOK_LEASE_MS: '1000',
  GITFLEET_HOOK_RECOVERY_DELAY_MS: '300',
};

interface DeadLetterRow {
  guid: string;
  event: string;
  reason: string;
  attempts: number;
  delivery_id: number | null;
}

let server: ServerProcess;
let git: GitClient;

after(async () => {
  await server?.kill('SIGTERM');
  await git?.cleanup();
});
// After the hook that stops the server: after-hooks run in order, so the server stops before its data goes.
const dataDir = tempDir({ after }, 'dead-letters');
before(async () => {
  server = await spawnServer(dataDir, HOOK_ENV);
  git = await GitClient.create(0);
  await ensureUser(server.url, 'ci');
});

/** A browser's session: a cookie, and forms posted with the CSRF token of the page they are on. */
class Browser {
  private cookie = '';

  constructor(private readonly baseUrl: string) {}

  async signIn(user: string, password: string): Promise<void> {
    const response = await this.request('POST', '/login', new URLSearchParams({ username: user, password }));
    const cookie = response.headers.get('set-cookie');
    assert.equal(response.status, 303, 'signed in');
    this.cookie = cookie!.split(';')[0];
  }

  async page(path: string): Promise<string> {
    const response = await this.request('GET', path);
    assert.equal(response.status, 200, `GET ${path}`);
    return response.text();
  }

  async submit(pageHtml: string, action: string): Promise<Response> {
    const csrf = /name="_csrf" value="([^"]*)"/.exec(pageHtml)?.[1];
    assert.ok(csrf, 'the page has a CSRF token');
    return this.request('POST', action, new URLSearchParams({ _csrf: csrf }));
  }

  private request(method: string, path: string, body?: URLSearchParams): Promise<Response> {
    return fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { origin: this.baseUrl, ...(this.cookie ? { cookie: this.cookie } : {}) },
      body,
      redirect: 'manual',
    });
  }
}

describe('webhook dead letters', () => {
  test('deliveries that exhaust their retries are listed, replayed from the API and the web page, and leave the list', async () => {
    const receiver = new WebhookReceiver(SECRET);
    await receiver.start();
    try {
      receiver.answer = 503;
      await api(server.url, 'POST', '/repos', { owner: 'ci', name: 'dead' }, 201);
      const hook = await api<{ id: number }>(
        server.url,
        'POST',
        '/repos/ci/dead/hooks',
        { config: { url: receiver.url, content_type: 'json', secret: SECRET }, events: ['push', 'create'] },
        201,
      );
      const hookApi = `/repos/ci/dead/hooks/${hook.body.id}`;
      const work = await git.init('dead');
      await git.ok(['remote', 'add', 'origin', `${server.url}/ci/dead.git`], { cwd: work });
      await git.commitFiles(work, { 'a.txt': 'a\n' }, 'first');
      await git.ok(['push', 'origin', 'main'], { cwd: work });

      // The ping, and the push's create and push events, each tried MAX_ATTEMPTS times.
      const letters = await eventually('three dead letters', async () => {
        const { body } = await api<DeadLetterRow[]>(server.url, 'GET', `${hookApi}/dead-letters`, undefined, 200);
        return body.length === 3 ? body : undefined;
      });
      assert.deepEqual(letters.map((letter) => letter.event).sort(), ['create', 'ping', 'push']);
      for (const letter of letters) {
        assert.equal(letter.attempts, MAX_ATTEMPTS);
        assert.equal(letter.reason, '503 Service Unavailable');
        const attempt = await api<{ guid: string; status_code: number }>(
          server.url,
          'GET',
          `${hookApi}/deliveries/${letter.delivery_id}`,
          undefined,
          200,
        );
        assert.equal(attempt.body.guid, letter.guid, 'its last attempt is in the delivery log');
      }
      assert.equal(receiver.seen.length, 3 * MAX_ATTEMPTS, 'nothing more was tried');

      // Paged like the other lists.
      const paged = await fetch(`${server.url}/api/v1${hookApi}/dead-letters?per_page=2&page=2`, {
        headers: adminHeaders(),
      });
      assert.equal(paged.headers.get('x-total-count'), '3');
      assert.equal(paged.headers.get('x-dead-letters-evicted'), '0');
      assert.match(paged.headers.get('link') ?? '', /rel="prev"/);
      assert.equal(((await paged.json()) as DeadLetterRow[]).length, 1);

      // The hook's web page shows them, each with a replay form.
      const browser = new Browser(server.url);
      await browser.signIn(TEST_ADMIN, TEST_ADMIN_PASSWORD);
      const hookPage = `/ci/dead/settings/hooks/${hook.body.id}`;
      const html = await browser.page(hookPage);
      assert.match(html, /id="dead-letter-list"/);
      for (const letter of letters) {
        assert.ok(html.includes(`action="${hookPage}/dead-letters/${letter.guid}/replay"`), `a replay form for ${letter.event}`);
      }

      receiver.answer = 200;
      const byEvent = (event: string) => letters.find((letter) => letter.event === event)!;

      // Replayed from the API: the same payload and X-GitHub-Delivery, recorded as a redelivery.
      const push = byEvent('push');
      await api(server.url, 'POST', `${hookApi}/dead-letters/${push.guid}/attempts`, undefined, 202);
      await receiver.waitFor('the replayed push', (accepted) => accepted.some((d) => d.guid === push.guid));
      const delivered = receiver.accepted.find((d) => d.guid === push.guid)!;
      assert.equal(delivered.event, 'push');
      assert.equal(delivered.payload.ref, 'refs/heads/main');
      const deliveries = await api<Array<{ guid: string; redelivery: boolean; status_code: number }>>(
        server.url,
        'GET',
        `${hookApi}/deliveries`,
        undefined,
        200,
      );
      assert.ok(deliveries.body.some((d) => d.guid === push.guid && d.redelivery && d.status_code === 200));

      // Replayed from the web page, with the page's CSRF token.
      const ping = byEvent('ping');
      const replayed = await browser.submit(html, `${hookPage}/dead-letters/${ping.guid}/replay`);
      assert.equal(replayed.status, 303);
      await receiver.waitFor('the replayed ping', (accepted) => accepted.some((d) => d.guid === ping.guid));

      const left = await eventually('the replayed dead letters to leave the list', async () => {
        const { body } = await api<DeadLetterRow[]>(server.url, 'GET', `${hookApi}/dead-letters`, undefined, 200);
        return body.length === 1 ? body : undefined;
      });
      assert.deepEqual(
        left.map((letter) => letter.event),
        ['create'],
      );
      await api(server.url, 'POST', `${hookApi}/dead-letters/${push.guid}/attempts`, undefined, 404);

      // A form without the page's token replays nothing.
      const create = byEvent('create');
      const forged = await fetch(`${server.url}${hookPage}/dead-letters/${create.guid}/replay`, {
        method: 'POST',
        headers: { origin: 'https://elsewhere.example', 'content-type': 'application/x-www-form-urlencoded' },
        body: '_csrf=forged',
        redirect: 'manual',
      });
      assert.notEqual(forged.status, 303);

      // Discarded on purpose, it is gone, and the page no longer lists failed deliveries.
      await api(server.url, 'DELETE', `${hookApi}/dead-letters/${create.guid}`, undefined, 204);
      await api(server.url, 'GET', `${hookApi}/dead-letters/${create.guid}`, undefined, 404);
      assert.doesNotMatch(await browser.page(hookPage), /id="dead-letter-list"/);
      assert.equal(receiver.accepted.filter((d) => d.guid === create.guid).length, 0, 'a discarded dead letter is not sent');
    } finally {
      await receiver.stop();
    }
  });
});
