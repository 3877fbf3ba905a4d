/**
 * Authentication under hostile traffic: bursts of password guesses, cross-site requests riding
 * on credentials a browser attaches by itself (session cookie, cached Basic credentials),
 * non-JSON bodies on the API, tokens on the web pages, sessions after a password change, and
 * the client's address and scheme behind a trusted proxy.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { SESSION_COOKIE } from '../src/auth/index.js';
import { ApiClient, token, type TestUser } from './api-client.js';
import { startTestServer, type TestServer } from './helpers.js';
import { WebClient } from './web-fixture.js';

const basic = (user: TestUser) => `Basic ${Buffer.from(`${user.name}:${user.password}`).toString('base64')}`;
const wrongBasic = (name: string, guess: string) => `Basic ${Buffer.from(`${name}:${guess}`).toString('base64')}`;

/** The sign-in form posted from the server's own page (or as `headers` say). */
const postLogin = (baseUrl: string, username: string, password: string, headers: Record<string, string> = {}) =>
  fetch(`${baseUrl}/login`, {
    method: 'POST',
    headers: { origin: baseUrl, 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ username, password }),
    redirect: 'manual',
  });

/** Counts the answers by status, or by status and content type; every refusal must say when to retry. */
async function statuses(responses: Array<Promise<Response>>, options: { byType?: boolean } = {}): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const response of await Promise.all(responses)) {
    const key = options.byType ? `${response.status} ${response.headers.get('content-type')}` : String(response.status);
    counts[key] = (counts[key] ?? 0) + 1;
    if (response.status === 429 || response.status === 503) assert.ok(Number(response.headers.get('retry-after')) >= 1, 'Retry-After');
    await response.arrayBuffer();
  }
  return counts;
}

describe('a burst of wrong passwords', () => {
  let server: TestServer;
  let api: ApiClient;
  before(async () => {
    // Caps of checks in flight and of one client's connections out of the way: this is about
    // the throttle's count, and a burst of 200 fetches opens 200 connections.
    server = await startTestServer({
      GITFLEET_MAX_CONNECTIONS_PER_CLIENT: '1000',
      GITFLEET_LOGIN_FAILURES_PER_USER: '10',
      GITFLEET_LOGIN_FAILURES_PER_IP: '1000',
      GITFLEET_PASSWORD_CHECKS_PER_IP: '1000',
      GITFLEET_PASSWORD_CHECK_QUEUE: '1000',
    });
    api = new ApiClient(server.url);
    await Promise.all([api.createUser('bob'), api.createUser('carol'), api.createUser('dan')]);
  });
  after(() => server?.stop());

  // Each password verified gives a 401 (all of them are wrong); each refused before, a 429.
  test('200 at once with Basic credentials: at most the limit is verified, the rest are 429', async () => {
    const answers = await statuses(
      Array.from({ length: 200 }, (_, index) =>
        fetch(`${server.url}/api/v1/user`, { headers: { authorization: wrongBasic('bob', `guess-${index}`) } }),
      ),
    );
    assert.deepEqual(answers, { 401: 10, 429: 190 });
  });

  test('200 at once with Basic credentials on git: the same', async () => {
    const refs = `${server.url}/dan/anything.git/info/refs?service=git-upload-pack`;
    const answers = await statuses(
      Array.from({ length: 200 }, (_, index) => fetch(refs, { headers: { authorization: wrongBasic('dan', `guess-${index}`) } })),
    );
    assert.deepEqual(answers, { 401: 10, 429: 190 });
  });

  test('200 at once on the sign-in form: the same limit, then the page says to wait', async () => {
    const answers = await statuses(
      Array.from({ length: 200 }, (_, index) => postLogin(server.url, 'carol', `guess-${index}`)),
      { byType: true },
    );
    assert.deepEqual(answers, { '401 text/html; charset=utf-8': 10, '429 text/html; charset=utf-8': 190 });
    const page = await postLogin(server.url, 'carol', 'one more');
    assert.equal(page.status, 429);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await page.text(), /Too many sign-in attempts/);
  });
});

describe('password checks at their cap', () => {
  let server: TestServer;
  let api: ApiClient;
  let erin: TestUser;
  before(async () => {
    // One check at a time: while it runs, every other password from this address is refused.
    server = await startTestServer({
      GITFLEET_PASSWORD_CHECKS: '1',
      GITFLEET_PASSWORD_CHECKS_PER_IP: '1',
      GITFLEET_LOGIN_FAILURES_PER_USER: '1000',
      GITFLEET_LOGIN_FAILURES_PER_IP: '1000',
    });
    api = new ApiClient(server.url);
    erin = await api.createUser('erin');
    await api.expect(201, 'POST', '/user/repos', { as: token(erin), body: { name: 'work' } });
  });
  after(() => server?.stop());

  // What git sends: the token as the Basic password, from the address that is guessing.
  const tokenAsPassword = () => `Basic ${Buffer.from(`erin:${erin.token}`).toString('base64')}`;

  test('guesses over the cap are refused, with the reason and Retry-After; a token as the password still gets in', async () => {
    const guesses = Array.from({ length: 50 }, (_, index) =>
      fetch(`${server.url}/api/v1/user`, { headers: { authorization: wrongBasic('erin', `guess-${index}`) } }),
    );
    const withToken = Array.from({ length: 5 }, () =>
      fetch(`${server.url}/api/v1/user`, { headers: { authorization: tokenAsPassword() } }),
    );
    const refusals: string[] = [];
    for (const answer of await Promise.all(guesses)) {
      assert.ok([401, 429].includes(answer.status), `a guess got ${answer.status}`);
      if (answer.status === 429) {
        assert.ok(Number(answer.headers.get('retry-after')) >= 1, 'Retry-After');
        refusals.push(((await answer.json()) as { message: string }).message);
      } else await answer.arrayBuffer();
    }
    assert.ok(refusals.length > 0, 'no guess was over the cap');
    for (const message of refusals) assert.match(message, /too many password checks at once from \S+ \(at most 1\)/);
    for (const answer of await Promise.all(withToken)) {
      assert.equal(answer.status, 200);
      assert.equal(((await answer.json()) as { login: string }).login, 'erin');
    }
  });

  test('the same on git: a plain-text reason for the guesses, the repository for the token', async () => {
    const refs = `${server.url}/erin/work.git/info/refs?service=git-upload-pack`;
    const guesses = Array.from({ length: 50 }, (_, index) =>
      fetch(refs, { headers: { authorization: wrongBasic('erin', `guess-${index}`) } }),
    );
    const withToken = Array.from({ length: 5 }, () => fetch(refs, { headers: { authorization: tokenAsPassword() } }));
    let refused = 0;
    for (const answer of await Promise.all(guesses)) {
      const text = await answer.text();
      if (answer.status !== 429) continue;
      refused++;
      assert.match(answer.headers.get('content-type') ?? '', /^text\/plain/);
      assert.match(text, /too many password checks at once/);
    }
    assert.ok(refused > 0, 'no guess was over the cap');
    for (const answer of await Promise.all(withToken)) {
      assert.equal(answer.status, 200);
      assert.match(await answer.text(), /# service=git-upload-pack/);
    }
  });
});

describe('requests a browser sends by itself', () => {
  let server: TestServer;
  let api: ApiClient;
  let alice: TestUser;
  let bob: TestUser;
  let reader: TestUser;
  before(async () => {
    server = await startTestServer();
    api = new ApiClient(server.url);
    [alice, bob] = await Promise.all([api.createUser('alice'), api.createUser('bob')]);
    reader = await api.createUser('rita', { scopes: ['read:user'] });
    await api.expect(201, 'POST', '/user/repos', { as: token(alice), body: { name: 'target', private: true } });
    await api.expect(201, 'POST', '/repos', { as: api.admin, body: { owner: 'rita', name: 'hidden', private: true } });
  });
  after(() => server?.stop());

  const addCollaborator = (headers: Record<string, string>) =>
    fetch(`${server.url}/api/v1/repos/alice/target/collaborators/bob`, {
      method: 'PUT',
      headers: { authorization: basic(alice), 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ permission: 'admin' }),
    });
  const collaborators = async () =>
    (await api.expect(200, 'GET', '/repos/alice/target/collaborators', { as: token(alice) })).body.map(
      (user: { login: string }) => user.login,
    );

  test('cached Basic credentials on a cross-site API request are refused (403), whatever says so', async () => {
    const crossSite: Array<Record<string, string>> = [
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site', origin: 'https://sub.evil.example' },
      { referer: 'https://evil.example/page' },
    ];
    for (const headers of crossSite) {
      const refused = await addCollaborator(headers);
      assert.equal(refused.status, 403, JSON.stringify(headers));
      assert.match(((await refused.json()) as { message: string }).message, /cross-origin request refused/);
    }
    // With an empty Host, this server's own origin cannot be known: "null" is still not ours.
    const emptyHost = await new Promise<number>((resolve, reject) => {
      const request = http.request(`${server.url}/api/v1/repos/alice/target/collaborators/bob`, {
        method: 'PUT',
        setHost: false,
        headers: { host: '', origin: 'null', authorization: basic(alice), 'content-type': 'application/json' },
      });
      request.on('response', (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', reject);
      request.end(JSON.stringify({ permission: 'admin' }));
    });
    assert.equal(emptyHost, 403, 'Origin: null with an empty Host');
    assert.deepEqual(await collaborators(), []);
    // Same-origin pages, and clients that are no browser (no Origin, no Sec-Fetch-Site), go through.
    assert.equal((await addCollaborator({ origin: server.url, 'sec-fetch-site': 'same-origin' })).status, 204);
    assert.equal((await addCollaborator({})).status, 204);
    assert.deepEqual(await collaborators(), ['bob']);
  });

  test('cached Basic credentials on a cross-site form post to a web page are refused (403)', async () => {
    const post = (origin: string) =>
      fetch(`${server.url}/new`, {
        method: 'POST',
        headers: { authorization: basic(bob), origin, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ owner: 'bob', name: 'forged', visibility: 'public' }),
        redirect: 'manual',
      });
    assert.equal((await post('https://evil.example')).status, 403);
    await api.expect(404, 'GET', '/repos/bob/forged', { as: token(bob) });
    assert.equal((await post(server.url)).status, 303);
    await api.expect(200, 'GET', '/repos/bob/forged', { as: token(bob) });
  });

  test('a text/plain body (what an HTML form can send) creates nothing through the API: 415', async () => {
    const response = await fetch(`${server.url}/api/v1/users/alice/tokens`, {
      method: 'POST',
      headers: { authorization: basic(alice), 'content-type': 'text/plain' },
      body: JSON.stringify({ name: 'planted', scopes: ['write:repository'] }),
    });
    assert.equal(response.status, 415);
    assert.match(((await response.json()) as { message: string }).message, /application\/json/);
    const names = (await api.expect(200, 'GET', '/users/alice/tokens', { as: { basic: [alice.name, alice.password] } })).body.map(
      (info: { name: string }) => info.name,
    );
    assert.ok(!names.includes('planted'), JSON.stringify(names));
  });

  test('an API write with the session cookie but neither Origin nor Referer is refused', async () => {
    const web = new WebClient(server.url);
    await web.signIn('alice', alice.password);
    const response = await fetch(`${server.url}/api/v1/user/repos`, {
      method: 'POST',
      headers: { cookie: web.cookie!, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'unannounced' }),
    });
    assert.equal(response.status, 403);
    await api.expect(404, 'GET', '/repos/alice/unannounced', { as: token(alice) });
  });

  test('the web pages take no token, whatever its scopes: nothing created, nothing private listed', async () => {
    const asReader = (path: string, form?: Record<string, string>) =>
      fetch(`${server.url}${path}`, {
        method: form ? 'POST' : 'GET',
        headers: {
          authorization: `token ${reader.token}`,
          ...(form ? { origin: server.url, 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        body: form ? new URLSearchParams(form) : undefined,
        redirect: 'manual',
      });
    const repo = await asReader('/new', { owner: 'rita', name: 'by-token', visibility: 'private' });
    assert.equal(repo.status, 403);
    const org = await asReader('/organizations/new', { name: 'token-org' });
    assert.equal(org.status, 403);
    await api.expect(404, 'GET', '/repos/rita/by-token', { as: api.admin });
    await api.expect(404, 'GET', '/orgs/token-org');
    const dashboard = await asReader('/');
    assert.equal(dashboard.status, 403);
    assert.ok(!(await dashboard.text()).includes('data-repo='));
    // Basic with the token as password is the same token.
    const viaBasic = await fetch(`${server.url}/`, { headers: { authorization: wrongBasic('rita', reader.token) } });
    assert.equal(viaBasic.status, 403);
  });
});

describe('accounts seen from outside', () => {
  let server: TestServer;
  let api: ApiClient;
  let owner: TestUser;
  let member: TestUser;
  before(async () => {
    server = await startTestServer();
    api = new ApiClient(server.url);
    [owner, member] = await Promise.all([api.createUser('olga'), api.createUser('mike')]);
    await api.expect(201, 'POST', '/orgs', { as: token(owner), body: { username: 'acme' } });
    await api.expect(200, 'PUT', '/orgs/acme/memberships/mike', { as: token(owner), body: { role: 'member' } });
  });
  after(() => server?.stop());

  test('a new password ends every session of the user; its tokens keep working', async () => {
    const browsers = [new WebClient(server.url), new WebClient(server.url)];
    for (const browser of browsers) await browser.signIn('mike', member.password);
    const me = (browser: WebClient) => fetch(`${server.url}/api/v1/user`, { headers: { cookie: browser.cookie! } });
    for (const browser of browsers) assert.equal((await me(browser)).status, 200);

    await api.expect(200, 'PATCH', '/admin/users/mike', { as: api.admin, body: { password: 'a-brand-new-password' } });
    for (const browser of browsers) assert.equal((await me(browser)).status, 401, 'the session ended');
    assert.equal((await api.expect(200, 'GET', '/user', { as: token(member) })).body.login, 'mike');
    await new WebClient(server.url).signIn('mike', 'a-brand-new-password');
  });

  test("an organisation's members are shown to its members only, on the web as in the API", async () => {
    const anonymous = await fetch(`${server.url}/acme`);
    assert.equal(anonymous.status, 200);
    const page = await anonymous.text();
    assert.ok(!page.includes('data-member='), 'no member listed to anonymous visitors');
    assert.ok(!page.includes('olga'), 'not even the owner');
    await api.expect(401, 'GET', '/orgs/acme/members');

    const stranger = await api.createUser('sam');
    const strangerWeb = new WebClient(server.url);
    await strangerWeb.signIn('sam', stranger.password);
    assert.ok(!(await strangerWeb.get('/acme')).text.includes('data-member='));
    await api.expect(403, 'GET', '/orgs/acme/members', { as: token(stranger) });

    const insider = new WebClient(server.url);
    await insider.signIn('olga', owner.password);
    assert.match((await insider.get('/acme')).text, /<li data-member="mike">/);
    await api.expect(200, 'GET', '/orgs/acme/members', { as: token(owner) });
  });
});

describe('behind a TLS proxy', () => {
  const signIn = (baseUrl: string, user: TestUser, headers: Record<string, string> = {}) =>
    postLogin(baseUrl, user.name, user.password, headers);

  test('GITFLEET_TRUST_PROXY: the cookie is Secure when the proxy says https, and the throttle counts the forwarded address', async () => {
    const server = await startTestServer({ GITFLEET_TRUST_PROXY: 'loopback', GITFLEET_LOGIN_FAILURES_PER_USER: '2' });
    try {
      const api = new ApiClient(server.url);
      const dora = await api.createUser('dora');
      // The browser talks https to the proxy: its Origin is https.
      const secure = await signIn(server.url, dora, { 'x-forwarded-proto': 'https', origin: server.url.replace('http:', 'https:') });
      assert.equal(secure.status, 303);
      assert.match(secure.headers.get('set-cookie') ?? '', new RegExp(`^${SESSION_COOKIE}=.*; Secure`));
      const plain = await signIn(server.url, dora);
      assert.doesNotMatch(plain.headers.get('set-cookie') ?? '', /Secure/);

      const guess = (address: string) =>
        fetch(`${server.url}/api/v1/user`, { headers: { authorization: wrongBasic('dora', 'guess'), 'x-forwarded-for': address } });
      for (let attempt = 0; attempt < 2; attempt++) assert.equal((await guess('198.51.100.7')).status, 401);
      assert.equal((await guess('198.51.100.7')).status, 429);
      assert.equal((await guess('198.51.100.8')).status, 401, 'another client behind the proxy is not throttled for it');
    } finally {
      await server.stop();
    }
  });

  test('without GITFLEET_TRUST_PROXY, X-Forwarded-* are not believed; an https public URL makes the cookie Secure', async () => {
    const server = await startTestServer({ GITFLEET_LOGIN_FAILURES_PER_USER: '2' });
    try {
      const api = new ApiClient(server.url);
      const dora = await api.createUser('dora');
      const spoofed = await signIn(server.url, dora, { 'x-forwarded-proto': 'https' });
      assert.doesNotMatch(spoofed.headers.get('set-cookie') ?? '', /Secure/);
      const guess = (address: string) =>
        fetch(`${server.url}/api/v1/user`, { headers: { authorization: wrongBasic('dora', 'guess'), 'x-forwarded-for': address } });
      for (const address of ['198.51.100.1', '198.51.100.2']) assert.equal((await guess(address)).status, 401);
      assert.equal((await guess('198.51.100.3')).status, 429, 'a forged X-Forwarded-For escapes nothing');
    } finally {
      await server.stop();
    }
    const published = await startTestServer({ GITFLEET_PUBLIC_URL: 'https://git.example.com' });
    try {
      const dora = await new ApiClient(published.url).createUser('dora');
      const response = await signIn(published.url, dora);
      assert.equal(response.status, 303);
      assert.match(response.headers.get('set-cookie') ?? '', /; Secure/);
    } finally {
      await published.stop();
    }
  });
});
