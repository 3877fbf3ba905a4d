/**
 * The git-reading API routes on a private repository: anonymous requests and users without
 * access get the same 404 as for a repository that does not exist (its existence is never
 * revealed); a collaborator with read access and the owner get the answers.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestServer, type TestServer } from './helpers.js';
import { TEST_ADMIN_ENV } from '@gitfleet/test-support/server';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import {
  ADMIN,
  adminAuth,
  buildFixture,
  createAdminRepository,
  createReadToken,
  createUser,
  pushFixture,
  type Fixture,
} from './api-git-fixture.js';

const REPO = 'secret';
const READER = 'reader';
const STRANGER = 'stranger';
const PASSWORD = 'correct horse battery staple';

/** One request to every git-reading route. */
const ROUTES = [
  '/branches',
  '/branches/feature/x-y',
  '/tags',
  '/commits',
  '/commits/main',
  '/contents',
  '/contents/dir/b.txt',
  '/readme',
  '/compare/v0.1...main',
];

let server: TestServer;
const fixtureRoot = tempDir({ after }, 'api-git');
let fixture: Fixture;
/** Tokens rather than passwords: a password costs a deliberately slow hash on every request. */
let readerAuth: Record<string, string>;
let strangerAuth: Record<string, string>;

before(async () => {
  fixture = await buildFixture(fixtureRoot);
  server = await startTestServer(TEST_ADMIN_ENV);
  await createAdminRepository(server.url, REPO, { private: true });
  await pushFixture(fixture.git, server.url, ADMIN, REPO);
  await createUser(server.url, READER, PASSWORD);
  await createUser(server.url, STRANGER, PASSWORD);
  const grant = await fetch(`${server.url}/api/v1/repos/${ADMIN}/${REPO}/collaborators/${READER}`, {
    method: 'PUT',
    headers: { ...adminAuth(), 'content-type': 'application/json' },
    body: JSON.stringify({ permission: 'read' }),
  });
  assert.ok(grant.ok, `granting read: HTTP ${grant.status} ${await grant.text()}`);
  readerAuth = { authorization: `Bearer ${await createReadToken(server.url, READER, PASSWORD)}` };
  strangerAuth = { authorization: `token ${await createReadToken(server.url, STRANGER, PASSWORD)}` };
});

after(async () => {
  await server?.stop();
});

async function status(
  owner: string,
  repo: string,
  route: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const response = await fetch(`${server.url}/api/v1/repos/${owner}/${repo}${route}`, { headers });
  return { status: response.status, body: await response.text() };
}

test('anonymous requests get the 404 of a repository that does not exist', async () => {
  for (const route of ROUTES) {
    const secret = await status(ADMIN, REPO, route);
    const missing = await status(ADMIN, 'does-not-exist', route);
    assert.equal(secret.status, 404, `${route}: ${secret.body}`);
    assert.equal(missing.status, 404, `${route}: ${missing.body}`);
    const message = (body: string, name: string) => (JSON.parse(body) as { message: string }).message.replaceAll(name, 'NAME');
    assert.equal(message(secret.body, REPO), message(missing.body, 'does-not-exist'), route);
  }
});

test('a user without access gets 404 on every route', async () => {
  for (const route of ROUTES) {
    const answer = await status(ADMIN, REPO, route, strangerAuth);
    assert.equal(answer.status, 404, `${route}: ${answer.body}`);
  }
});

test('a collaborator with read access and the owner get 200 on every route', async () => {
  for (const headers of [readerAuth, adminAuth()]) {
    for (const route of ROUTES) {
      const answer = await status(ADMIN, REPO, route, headers);
      assert.equal(answer.status, 200, `${route}: ${answer.body}`);
    }
  }
  const branches = JSON.parse((await status(ADMIN, REPO, '/branches', readerAuth)).body) as { name: string; commit: { sha: string } }[];
  const main = branches.find((branch) => branch.name === 'main');
  assert.equal(main?.commit.sha, fixture.git.revParse('main'));
});
