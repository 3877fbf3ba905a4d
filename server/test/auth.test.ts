import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AccountStore } from '@gitfleet/accounts';
import { loadConfig } from '../src/config.js';
import { openStores, type OpenStores } from '../src/index.js';
import { SESSION_COOKIE } from '../src/auth/index.js';
import { TEST_ADMIN, TEST_ADMIN_TOKEN, ensureUser, startTestServer, type TestServer } from './helpers.js';
import { testPassword } from '@gitfleet/test-support/server';

let server: TestServer;
/** A second connection to the server's KV store: sessions are made here as the web sign-in makes them. */
let stores: OpenStores;
let accounts: AccountStore;

before(async () => {
  server = await startTestServer();
  stores = await openStores(loadConfig({ GITFLEET_DATA_DIR: server.dataDir }));
  accounts = new AccountStore(stores.kv);
  await ensureUser(server.url, 'bob');
});

after(async () => {
  await stores?.close();
  await server?.stop();
});

const basic = (user: string, secret: string) => `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;

async function whoAmI(headers: Record<string, string>): Promise<{ status: number; login?: string; response: Response }> {
  const response = await fetch(`${server.url}/api/v1/user`, { headers });
  const body = (await response.json()) as { login?: string };
  return { status: response.status, login: body.login, response };
}

describe('credentials', () => {
  test('a token as Bearer, as GitHub\'s "token" scheme, or as the password of its own user', async () => {
    for (const authorization of [
      `Bearer ${TEST_ADMIN_TOKEN}`,
      `token ${TEST_ADMIN_TOKEN}`,
      `bearer ${TEST_ADMIN_TOKEN}`,
      basic(TEST_ADMIN, TEST_ADMIN_TOKEN),
    ]) {
      const { status, login } = await whoAmI({ authorization });
      assert.equal(status, 200, authorization);
      assert.equal(login, TEST_ADMIN, authorization);
    }
    assert.equal((await whoAmI({ authorization: basic('bob', testPassword('bob')) })).login, 'bob');
  });

  test('unreadable, unknown or mismatched credentials are 401 with the Basic challenge, never anonymous', async () => {
    for (const authorization of [
      'Basic !!!',
      `Basic ${Buffer.from('no-colon').toString('base64')}`,
      basic('bob', ''),
      'Digest username="bob"',
      'Bearer',
      'Bearer gf_not-a-token',
      basic('bob', 'wrong-password'),
      basic('bob', TEST_ADMIN_TOKEN),
      basic('nobody-at-all', 'whatever-password'),
    ]) {
      const { status, response } = await whoAmI({ authorization });
      assert.equal(status, 401, authorization);
      assert.match(response.headers.get('www-authenticate') ?? '', /^Basic realm="Gitfleet"/, authorization);
    }
  });
});

describe('web sessions', () => {
  test('a session cookie authenticates; a stale one leaves the request anonymous and is cleared', async () => {
    const { cookieValue } = await accounts.createSession('bob');
    assert.equal((await whoAmI({ cookie: `${SESSION_COOKIE}=${cookieValue}` })).login, 'bob');
    // The Authorization header wins over a cookie.
    assert.equal(
      (await whoAmI({ cookie: `${SESSION_COOKIE}=${cookieValue}`, authorization: `Bearer ${TEST_ADMIN_TOKEN}` })).login,
      TEST_ADMIN,
    );

    await accounts.deleteSession(cookieValue);
    const stale = await whoAmI({ cookie: `${SESSION_COOKIE}=${cookieValue}` });
    assert.equal(stale.status, 401, 'anonymous: /user needs someone');
    assert.match(stale.response.headers.get('set-cookie') ?? '', new RegExp(`^${SESSION_COOKIE}=; Max-Age=0; Path=/`));
    const page = await fetch(`${server.url}/healthz`, { headers: { cookie: `${SESSION_COOKIE}=not-a-session` } });
    assert.equal(page.status, 200);
  });

  test('a change made with the session cookie must come from this origin (CSRF)', async () => {
    const { cookieValue } = await accounts.createSession('bob');
    const create = (name: string, headers: Record<string, string>) =>
      fetch(`${server.url}/api/v1/user/repos`, {
        method: 'POST',
        headers: { cookie: `${SESSION_COOKIE}=${cookieValue}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ name }),
      });
    const foreign: Array<Record<string, string>> = [
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { referer: 'https://evil.example/page' },
    ];
    for (const headers of foreign) {
      const refused = await create('csrf', headers);
      assert.equal(refused.status, 403, JSON.stringify(headers));
      assert.match(((await refused.json()) as { message: string }).message, /cross-origin/);
    }
    assert.equal(
      (await fetch(`${server.url}/api/v1/repos/bob/csrf`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })).status,
      404,
    );

    assert.equal((await create('same-origin', { origin: server.url })).status, 201);
    assert.equal((await create('same-referer', { referer: `${server.url}/new` })).status, 201);
    // A token needs no origin: it is never sent by a browser on its own.
    const scripted = await fetch(`${server.url}/api/v1/user/repos`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, origin: 'https://elsewhere.example', 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'scripted' }),
    });
    assert.equal(scripted.status, 201);
  });
});
