/**
 * The issue's acceptance story, as a new user would try it: an administrator made with the CLI
 * (beside the running server, on its data), who signs in on the web page, creates an
 * organisation and a private repository in it, generates a token, pushes with it using the real
 * git, and sees the code and history in the browser; while a stranger, anonymous or signed in,
 * is refused everything: pages, clone, API.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { Page } from 'playwright-core';
import { selectedStorage, type StorageBackend } from '@gitfleet/test-support/server-storage';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { GitClient } from '@gitfleet/test-support/git-client';
import { runCli } from '@gitfleet/test-support/cli';
import { ensureUser, serverTest, startServer, testPassword, type TestServer } from '@gitfleet/test-support/server';

const ADMIN = 'alice';
const ADMIN_PASSWORD = 'alice-made-by-the-cli';

let storage: StorageBackend;
let server: TestServer;
/** A git without any credentials of its own: each command says who it is in its URL. */
let git: GitClient;
let browser: TestBrowser & { pageErrors: string[] };
let token = '';
let pushed = '';

const test = serverTest(() => server);

before(async () => {
  storage = await selectedStorage();
  server = await startServer({}, { storage });
  git = await GitClient.create(2, { authorization: null });
  browser = await launchBrowser(server.url);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await storage?.dispose();
  await git?.cleanup();
});

/** `host:port` of the server, for URLs that carry credentials. */
const host = () => new URL(server.url).host;

/** Clicks `button` and waits for the page it leads to: a path, a pattern or a test of the URL. */
async function submit(page: Page, button: string, path: string | RegExp | ((url: URL) => boolean)): Promise<void> {
  await Promise.all([page.waitForURL(typeof path === 'string' ? `**${path}` : path), page.click(button)]);
}

test('the CLI creates an administrator while the server runs, who then signs in on the web page', async () => {
  const created = await runCli(['user', 'create', ADMIN, '--email', 'alice@example.test', '--password', ADMIN_PASSWORD, '--admin'], {
    ...storage.env,
    GITFLEET_DATA_DIR: server.dataDir,
  });
  assert.equal(created.code, 0, created.stderr);

  const { page } = browser;
  await page.goto('/');
  await submit(page, '#sign-in-link', /\/login/);
  await page.fill('#login-username', ADMIN);
  await page.fill('#login-password', ADMIN_PASSWORD);
  await submit(page, '#login-submit', (url: URL) => url.pathname === '/');
  assert.equal(await page.getAttribute('#user-menu summary', 'data-user'), ADMIN);
});

test('an organisation and a private repository in it are created through the forms', async () => {
  const { page } = browser;
  await submit(page, '#new-organization-button', '/organizations/new');
  await page.fill('#org-name', 'acme');
  await page.fill('#org-full-name', 'Acme Corporation');
  await submit(page, '#create-organization', '/acme');
  assert.equal(await page.getAttribute('#owner-header', 'data-kind'), 'organization');
  assert.equal(await page.locator(`#org-members li[data-member="${ADMIN}"]`).count(), 1);

  await submit(page, '#new-org-repository-button', /\/new\?owner=acme$/);
  assert.equal(await page.inputValue('#new-repo-owner'), 'acme');
  await page.fill('#new-repo-name', 'rocket');
  await page.fill('#new-repo-description', 'Goes up');
  await page.check('#visibility-private');
  await submit(page, '#create-repository', '/acme/rocket');
  assert.equal(await page.locator('#private-badge').count(), 1);
  assert.equal(await page.locator('#empty-repository').count(), 1);
  assert.equal(await page.inputValue('#clone-url'), `${server.url}/acme/rocket.git`);
});

test('a token generated on the tokens page pushes with the real git; the code and history show in the browser', async () => {
  const { page } = browser;
  await page.goto('/settings/tokens');
  await page.fill('#token-name', 'laptop');
  await page.check('#scope-write-repository');
  await page.click('#generate-token');
  token = (await page.locator('#new-token-value').innerText()).trim();
  assert.match(token, /^gf_[0-9A-Za-z]{40}$/);
  assert.equal(await page.locator('#token-list li.token[data-token-name="laptop"]').count(), 1);

  const work = await git.tempDir('rocket');
  await git.ok(['init', '-q', '-b', 'main', work]);
  await writeFile(join(work, 'README.md'), '# Rocket\n\nIt *flies*.\n');
  await writeFile(join(work, 'launch.py'), 'def launch(countdown):\n    return countdown - 1\n');
  await git.ok(['add', '-A'], { cwd: work });
  await git.ok(['commit', '-q', '-m', 'Lift-off'], { cwd: work });
  pushed = await git.ok(['rev-parse', 'HEAD'], { cwd: work });
  await git.ok(['push', '-q', `http://${ADMIN}:${token}@${host()}/acme/rocket.git`, 'main'], { cwd: work });

  await page.goto('/acme/rocket');
  assert.equal((await page.locator('#readme .markdown-body h1').innerText()).trim(), 'Rocket');
  assert.equal((await page.locator('#readme .markdown-body em').innerText()).trim(), 'flies');
  await submit(page, '#file-list tr[data-path="launch.py"] a', '/acme/rocket/blob/main/launch.py');
  assert.ok((await page.locator('#file-content .hljs-keyword').count()) > 0, 'highlighted');
  await submit(page, '#blob-history-link', '/acme/rocket/commits/main/launch.py');
  assert.deepEqual(
    await page.locator('#commit-list li.commit').evaluateAll((items) => items.map((item) => item.getAttribute('data-oid'))),
    [pushed],
  );
  await submit(page, `#commit-list li.commit[data-oid="${pushed}"] a.commit-title`, `/acme/rocket/commit/${pushed}`);
  assert.deepEqual(
    await page
      .locator('#diff .diff-file')
      .evaluateAll((files) => files.map((file) => `${file.getAttribute('data-status')} ${file.getAttribute('data-path')}`).sort()),
    ['added README.md', 'added launch.py'],
  );
});

test('a stranger is refused everything: the pages, git and the API answer as if the repository did not exist', async () => {
  await ensureUser(server.url, 'mallory');
  const strangerAuth = `Basic ${Buffer.from(`mallory:${testPassword('mallory')}`).toString('base64')}`;

  // Anonymous and signed-in browsers alike get the page of a missing repository.
  const anonymous = await launchBrowser(server.url);
  try {
    const { page } = anonymous;
    for (const path of ['/acme/rocket', '/acme/rocket/blob/main/launch.py', `/acme/rocket/commit/${pushed}`]) {
      const response = await page.goto(path);
      assert.equal(response?.status(), 404, path);
      assert.equal(await page.getAttribute('#error-page', 'data-status'), '404', path);
    }
    await page.goto('/login');
    await page.fill('#login-username', 'mallory');
    await page.fill('#login-password', testPassword('mallory'));
    await submit(page, '#login-submit', (url: URL) => url.pathname === '/');
    for (const path of ['/acme/rocket', '/acme/rocket/settings', '/acme/rocket/settings/hooks/new', '/acme/rocket.git']) {
      const response = await page.goto(path);
      assert.equal(response?.status(), 404, path);
    }
    assert.deepEqual(anonymous.pageErrors, []);
  } finally {
    await anonymous.close();
  }

  // git: no clone anonymously or as the stranger, and no push with the stranger's password.
  const target = await git.tempDir('stolen');
  assert.notEqual((await git.run(['clone', '-q', `http://${host()}/acme/rocket.git`, join(target, 'anonymous')])).code, 0);
  assert.notEqual(
    (await git.run(['clone', '-q', `http://mallory:${testPassword('mallory')}@${host()}/acme/rocket.git`, join(target, 'mallory')])).code,
    0,
  );
  const own = await git.tempDir('mallory-own');
  await git.ok(['init', '-q', '-b', 'main', own]);
  await git.ok(['commit', '-q', '--allow-empty', '-m', 'graffiti'], { cwd: own });
  assert.notEqual(
    (await git.run(['push', '-q', `http://mallory:${testPassword('mallory')}@${host()}/acme/rocket.git`, 'main:main'], { cwd: own })).code,
    0,
  );

  // The API: 404 for reading, for the contents and for deleting.
  for (const [method, path] of [
    ['GET', '/api/v1/repos/acme/rocket'],
    ['GET', '/api/v1/repos/acme/rocket/contents/launch.py'],
    ['DELETE', '/api/v1/repos/acme/rocket'],
  ] as const) {
    const response = await fetch(`${server.url}${path}`, { method, headers: { authorization: strangerAuth } });
    assert.equal(response.status, 404, `${method} ${path} as the stranger`);
  }

  // Nothing the stranger did changed the repository: the owner's token still sees the pushed commit alone.
  const refs = await git.ok(['ls-remote', `http://${ADMIN}:${token}@${host()}/acme/rocket.git`, 'refs/heads/main']);
  assert.equal(refs.split('\t')[0], pushed);
  assert.deepEqual(browser.pageErrors, [], 'no script error on any page');
});
