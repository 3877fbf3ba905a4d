/**
 * Every permission boundary of git over HTTP, driven by the real git CLI: who may clone and who
 * may push a public and a private repository (anonymous, reader, writer, repository admin, site
 * admin, stranger), tokens that are revoked or lack the write scope, wrong passwords and the
 * failed-login throttle, git's credential prompting after a 401, and push-to-create.
 * Users, tokens, collaborators and repositories are made through the REST API, as a user would.
 */
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { GitClient } from '@gitfleet/test-support/git-client';
import { adminHeaders, serverTest, startServer, testPassword, type TestServer } from '@gitfleet/test-support/server';

const OWNER = 'alice';
const READER = 'rita';
const WRITER = 'will';
const REPO_ADMIN = 'adam';
const STRANGER = 'sam';
/** A user whose password is guessed until the throttle stops it. */
const TARGET = 'tina';

/** Few failures allowed, so that the throttle test stays short; the rest of the file stays well under them. */
const THROTTLE_ENV = { GITFLEET_LOGIN_FAILURES_PER_USER: '5', GITFLEET_LOGIN_FAILURES_PER_IP: '40' };

interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

function basic(user: string, secret: string): string {
  return `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
}

async function call(baseUrl: string, method: string, path: string, authorization: string | undefined, body?: unknown): Promise<Answer> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(authorization ? { authorization } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // git's endpoints answer in text
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

async function expectStatus(answer: Promise<Answer>, status: number, what: string): Promise<Answer> {
  const result = await answer;
  assert.equal(result.status, status, `${what}: ${JSON.stringify(result.body)}`);
  return result;
}

/** A user with testPassword(name), made by the site administrator. */
async function createUser(baseUrl: string, name: string): Promise<void> {
  await expectStatus(
    call(baseUrl, 'POST', '/api/v1/admin/users', adminHeaders().authorization, {
      username: name,
      email: `${name}@example.test`,
      password: testPassword(name),
    }),
    201,
    `creating user ${name}`,
  );
}

/** A personal access token of `user`, minted with the user's password as Gitea and GitHub do. */
async function createToken(baseUrl: string, user: string, name: string, scopes: string[]): Promise<{ id: string; secret: string }> {
  const created = await expectStatus(
    call(baseUrl, 'POST', `/api/v1/users/${user}/tokens`, basic(user, testPassword(user)), { name, scopes }),
    201,
    `creating token ${name} of ${user}`,
  );
  return { id: String(created.body.id), secret: created.body.sha1 };
}

/** `-c` arguments for a credential helper that answers with these credentials. */
function credentialHelper(user: string, secret: string): string[] {
  return ['-c', 'credential.helper=', '-c', `credential.helper=!f() { echo username=${user}; echo password=${secret}; }; f`];
}

const AUTH_REFUSED = /Authentication failed|could not read Username|terminal prompts disabled/;

describe('git over HTTP: permissions', () => {
  let server: TestServer;
  let pushCreateServer: TestServer | undefined;
  /** Git without any credentials, unless a test gives them. */
  let git: GitClient;
  /** Git as the site administrator (the default of test gits). */
  let adminGit: GitClient;
  let source: string;
  const tokens: Record<string, string> = {};
  const test = serverTest(() => [server, pushCreateServer]);

  const url = (repo: string, base = server.url) => `${base}/${OWNER}/${repo}.git`;
  /** A git that sends `authorization` with every request. */
  const gitAs = (authorization: string) => GitClient.create(0, { authorization });

  before(async () => {
    server = await startServer(THROTTLE_ENV);
    git = await GitClient.create(0, { authorization: null });
    adminGit = await GitClient.create(0);
    for (const user of [OWNER, READER, WRITER, REPO_ADMIN, STRANGER, TARGET]) await createUser(server.url, user);
    const owner = basic(OWNER, testPassword(OWNER));
    await expectStatus(
      call(server.url, 'POST', '/api/v1/user/repos', owner, { name: 'open', private: false }),
      201,
      'creating the public repository',
    );
    await expectStatus(
      call(server.url, 'POST', '/api/v1/user/repos', owner, { name: 'secret', private: true }),
      201,
      'creating the private repository',
    );
    for (const [user, permission] of [
      [READER, 'read'],
      [WRITER, 'write'],
      [REPO_ADMIN, 'admin'],
    ]) {
      for (const repo of ['open', 'secret']) {
        await expectStatus(
          call(server.url, 'PUT', `/api/v1/repos/${OWNER}/${repo}/collaborators/${user}`, owner, { permission }),
          204,
          `granting ${user} ${permission}`,
        );
      }
    }
    for (const user of [OWNER, READER, WRITER, REPO_ADMIN, STRANGER]) {
      tokens[user] = (await createToken(server.url, user, 'git', ['write:repository'])).secret;
    }

    source = await git.init('source');
    await git.commitFiles(source, { 'README.md': '# shared\n' }, 'first');
    for (const repo of ['open', 'secret']) await adminGit.ok(['push', '-q', url(repo), 'main'], { cwd: source });
  });

  after(async () => {
    await git?.cleanup();
    await adminGit?.cleanup();
    await server?.stop();
    await pushCreateServer?.stop();
  });

  /** Pushes a new commit to `branch` of `repo` with `client`; the result for checks. */
  async function pushNew(client: GitClient, repo: string, branch: string, base = server.url) {
    const work = await client.clone(url('open'), `push-${branch}`);
    await client.commitFiles(work, { [`${branch}.txt`]: `${branch}\n` }, `commit for ${branch}`);
    return client.run(['push', url(repo, base), `HEAD:refs/heads/${branch}`], { cwd: work });
  }

  async function remoteBranch(repo: string, branch: string): Promise<string> {
    return adminGit.ok(['ls-remote', url(repo), `refs/heads/${branch}`]);
  }

  test('anonymous: clones the public repository, never the private one, and pushes nowhere', async () => {
    const clone = await git.clone(url('open'), 'anonymous-public');
    assert.equal(await git.revParse(clone, 'HEAD'), await git.revParse(source, 'HEAD'));

    const refused = await git.fails(['clone', url('secret'), await git.tempDir('anonymous-private')]);
    assert.match(refused.stderr, AUTH_REFUSED);
    // The challenge that makes git ask: the same for a private and a missing repository.
    for (const repo of ['secret', 'missing']) {
      const answer = await call(server.url, 'GET', `/${OWNER}/${repo}.git/info/refs?service=git-upload-pack`, undefined);
      assert.equal(answer.status, 401, repo);
      assert.equal(answer.headers.get('www-authenticate'), 'Basic realm="Gitfleet", charset="UTF-8"');
    }

    const push = await pushNew(git, 'open', 'anonymous');
    assert.notEqual(push.code, 0);
    assert.match(push.stderr, AUTH_REFUSED);
    const advertisement = await call(server.url, 'GET', `/${OWNER}/open.git/info/refs?service=git-receive-pack`, undefined);
    assert.equal(advertisement.status, 401);
    assert.match(advertisement.headers.get('www-authenticate') ?? '', /^Basic realm="Gitfleet"/);
    assert.equal(await remoteBranch('open', 'anonymous'), '');
  });

  test('reader: clones the private repository, but a push is refused with 403', async () => {
    const reader = await gitAs(`Bearer ${tokens[READER]}`);
    try {
      const clone = await reader.clone(url('secret'), 'reader-private');
      assert.equal(await reader.revParse(clone, 'HEAD'), await git.revParse(source, 'HEAD'));
      for (const repo of ['secret', 'open']) {
        const push = await pushNew(reader, repo, 'reader');
        assert.notEqual(push.code, 0, repo);
        assert.match(push.stderr, /The requested URL returned error: 403/, repo);
        assert.equal(await remoteBranch(repo, 'reader'), '');
      }
    } finally {
      await reader.cleanup();
    }
  });

  test('writer, repository admin, owner and site admin push to the private repository', async () => {
    const pushers: Array<[string, string]> = [
      [WRITER, `Bearer ${tokens[WRITER]}`],
      [REPO_ADMIN, `token ${tokens[REPO_ADMIN]}`],
      // A token as the password of Basic authentication, as git's credential helpers store it.
      [OWNER, basic(OWNER, tokens[OWNER])],
      ['site-admin', adminHeaders().authorization],
    ];
    for (const [who, authorization] of pushers) {
      const client = await gitAs(authorization);
      try {
        const push = await pushNew(client, 'secret', `by-${who}`);
        assert.equal(push.code, 0, `${who}: ${push.stderr}`);
        assert.notEqual(await remoteBranch('secret', `by-${who}`), '', who);
      } finally {
        await client.cleanup();
      }
    }
  });

  test('a stranger finds no private repository (not found), and may not push to the public one', async () => {
    const stranger = await gitAs(`Bearer ${tokens[STRANGER]}`);
    try {
      const clone = await stranger.fails(['clone', url('secret'), await stranger.tempDir('stranger-private')]);
      assert.match(clone.stderr, /repository '.*\/alice\/secret\.git\/' not found/);
      const push = await pushNew(stranger, 'secret', 'stranger');
      assert.match(push.stderr, /not found/);
      assert.equal(await remoteBranch('secret', 'stranger'), '');

      // The public one: readable, so the refusal of a push says why.
      const publicPush = await pushNew(stranger, 'open', 'stranger');
      assert.match(publicPush.stderr, /The requested URL returned error: 403/);
      // Exists-but-hidden and missing look alike.
      const hidden = await call(server.url, 'GET', `/${OWNER}/secret.git/info/refs?service=git-upload-pack`, `Bearer ${tokens[STRANGER]}`);
      const missing = await call(
        server.url,
        'GET',
        `/${OWNER}/missing.git/info/refs?service=git-upload-pack`,
        `Bearer ${tokens[STRANGER]}`,
      );
      assert.equal(hidden.status, 404);
      assert.equal(missing.status, 404);
      assert.equal(String(hidden.body).replace('secret', 'missing'), String(missing.body));
    } finally {
      await stranger.cleanup();
    }
  });

  test('repository hooks are for repository admins: 404 for strangers, 403 for writers', async () => {
    const hooks = `/api/v1/repos/${OWNER}/secret/hooks`;
    await expectStatus(call(server.url, 'GET', hooks, `Bearer ${tokens[REPO_ADMIN]}`), 200, 'repository admin');
    await expectStatus(call(server.url, 'GET', hooks, `Bearer ${tokens[WRITER]}`), 403, 'writer');
    await expectStatus(call(server.url, 'GET', hooks, `Bearer ${tokens[STRANGER]}`), 404, 'stranger');
    await expectStatus(call(server.url, 'GET', hooks, undefined), 401, 'anonymous');
  });

  test('a revoked token is refused (401) where it worked before', async () => {
    const token = await createToken(server.url, WRITER, 'short-lived', ['write:repository']);
    const client = await gitAs(`Bearer ${token.secret}`);
    try {
      await client.ok(['ls-remote', url('secret')]);
      await expectStatus(
        call(server.url, 'DELETE', `/api/v1/users/${WRITER}/tokens/${token.id}`, basic(WRITER, testPassword(WRITER))),
        204,
        'revoking',
      );
      const refused = await client.fails(['ls-remote', url('secret')]);
      assert.match(refused.stderr, AUTH_REFUSED);
      const answer = await call(server.url, 'GET', `/${OWNER}/secret.git/info/refs?service=git-upload-pack`, `Bearer ${token.secret}`);
      assert.equal(answer.status, 401);
      assert.match(answer.headers.get('www-authenticate') ?? '', /^Basic /);
    } finally {
      await client.cleanup();
    }
  });

  test('a token without write:repository clones but cannot push, whatever its user may do', async () => {
    const token = await createToken(server.url, WRITER, 'read-only', ['read:repository']);
    const client = await gitAs(`Bearer ${token.secret}`);
    try {
      await client.clone(url('secret'), 'read-only-clone');
      const push = await pushNew(client, 'secret', 'read-only-token');
      assert.notEqual(push.code, 0);
      assert.match(push.stderr, /The requested URL returned error: 403/);
      assert.equal(await remoteBranch('secret', 'read-only-token'), '');
      const answer = await call(server.url, 'GET', `/${OWNER}/secret.git/info/refs?service=git-receive-pack`, `Bearer ${token.secret}`);
      assert.equal(answer.status, 403);
      assert.match(String(answer.body), /write:repository/);
    } finally {
      await client.cleanup();
    }
  });

  test('git asks its credential helper after the 401: right credentials clone, a wrong password is refused', async () => {
    const clone = await git.tempDir('helper-clone');
    await git.ok([...credentialHelper(OWNER, testPassword(OWNER)), 'clone', '-q', url('secret'), clone]);
    assert.equal(await git.revParse(clone, 'refs/remotes/origin/main'), await git.revParse(source, 'HEAD'));
    // A token works the same way in place of the password.
    await git.ok([...credentialHelper(READER, tokens[READER]), 'ls-remote', url('secret')]);

    const wrong = await git.fails([...credentialHelper(OWNER, 'not-the-password'), 'ls-remote', url('secret')]);
    assert.match(wrong.stderr, /Authentication failed/);
    const answer = await call(server.url, 'GET', `/${OWNER}/open.git/info/refs?service=git-upload-pack`, basic(OWNER, 'not-the-password'));
    assert.equal(answer.status, 401, 'wrong credentials are refused even where anonymous would be let in');
    // Someone else's token with this user name is no credential either.
    await expectStatus(
      call(server.url, 'GET', `/${OWNER}/secret.git/info/refs?service=git-upload-pack`, basic(OWNER, tokens[READER])),
      401,
      'a token under another name',
    );
  });

  test('failed logins are throttled: 429 with Retry-After, even for the right password', async () => {
    const info = `/${OWNER}/open.git/info/refs?service=git-upload-pack`;
    for (let attempt = 1; attempt <= Number(THROTTLE_ENV.GITFLEET_LOGIN_FAILURES_PER_USER); attempt++) {
      await expectStatus(call(server.url, 'GET', info, basic(TARGET, `guess-${attempt}`)), 401, `guess ${attempt}`);
    }
    const throttled = await expectStatus(call(server.url, 'GET', info, basic(TARGET, 'one-more-guess')), 429, 'the guess over the limit');
    assert.ok(Number(throttled.headers.get('retry-after')) >= 1, `Retry-After ${throttled.headers.get('retry-after')}`);
    // Had the right password got through, its different answer would have given it away.
    await expectStatus(call(server.url, 'GET', info, basic(TARGET, testPassword(TARGET))), 429, 'the right password while throttled');
    // git sends credentials only after a 401, so to a repository anonymous may not read.
    const viaGit = await git.fails([...credentialHelper(TARGET, testPassword(TARGET)), 'ls-remote', url('secret')]);
    assert.match(viaGit.stderr, /The requested URL returned error: 429/);
    // Other users from the same address are not locked out by it.
    await git.ok([...credentialHelper(OWNER, testPassword(OWNER)), 'ls-remote', url('secret')]);
  });

  test('push-to-create is off by default: a push to a missing repository finds nothing', async () => {
    const owner = await gitAs(basic(OWNER, tokens[OWNER]));
    try {
      const push = await pushNew(owner, 'not-yet', 'main');
      assert.match(push.stderr, /not found/);
      await expectStatus(call(server.url, 'GET', `/api/v1/repos/${OWNER}/not-yet`, adminHeaders().authorization), 404, 'the repository');
    } finally {
      await owner.cleanup();
    }
  });

  test('push-to-create on: the owner creates a private repository by pushing; nobody else can', async () => {
    pushCreateServer = await startServer({ ...THROTTLE_ENV, GITFLEET_PUSH_CREATE: '1' });
    const base = pushCreateServer.url;
    for (const user of [OWNER, STRANGER]) await createUser(base, user);
    const ownerToken = (await createToken(base, OWNER, 'git', ['write:repository'])).secret;
    const strangerToken = (await createToken(base, STRANGER, 'git', ['write:repository'])).secret;
    const owner = await gitAs(`Bearer ${ownerToken}`);
    const stranger = await gitAs(`Bearer ${strangerToken}`);
    try {
      const work = await owner.init('push-create');
      const commit = await owner.commitFiles(work, { 'a.txt': 'a\n' }, 'created by a push');
      await owner.ok(['push', '-q', url('pushed', base), 'main'], { cwd: work });
      assert.equal((await owner.ok(['ls-remote', url('pushed', base), 'refs/heads/main'])).split('\t')[0], commit);
      const described = await expectStatus(
        call(base, 'GET', `/api/v1/repos/${OWNER}/pushed`, `Bearer ${ownerToken}`),
        200,
        'the created repository',
      );
      assert.equal(described.body.private, true);
      assert.equal(described.body.default_branch, 'main');
      await expectStatus(call(base, 'GET', `/api/v1/repos/${OWNER}/pushed`, undefined), 404, 'the new private repository, anonymously');

      // Under someone else's name, or anonymously, nothing is created.
      const foreign = await stranger.run(['push', url('by-stranger', base), 'main'], { cwd: work });
      assert.match(foreign.stderr, /not found/);
      const anonymous = await git.run(['push', url('by-anonymous', base), 'main'], { cwd: work });
      assert.match(anonymous.stderr, AUTH_REFUSED);
      for (const repo of ['by-stranger', 'by-anonymous']) {
        await expectStatus(call(base, 'GET', `/api/v1/repos/${OWNER}/${repo}`, adminHeaders().authorization), 404, repo);
      }
      // A missing owner gets nothing either, even from a site administrator.
      const nobody = await adminGit.run(['push', `${base}/nobody-here/x.git`, 'main'], { cwd: work });
      assert.match(nobody.stderr, /not found/);
    } finally {
      await owner.cleanup();
      await stranger.cleanup();
    }
  });
});
