/**
 * The web UI in real Chromium against a real server process: a repository pushed with the real
 * git, browsed as its owner (README, tree, highlighted file, history, commit diff, branches,
 * tags), a webhook made in its settings and delivered to a local receiver, an organization with
 * a member and a team, sign-in errors,
 * sign-out, and a stranger who must not learn that the private repository exists.
 *
 * The tests of this file run in order and share the server, the repository and one browser.
 */
import assert from 'node:assert/strict';
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { GitClient } from '@gitfleet/test-support/git-client';
import {
  TEST_ADMIN,
  TEST_ADMIN_PASSWORD,
  ensureUser,
  serverTest,
  startServer,
  testPassword,
  type TestServer,
} from '@gitfleet/test-support/server';
import { LOOPBACK_RECEIVERS_ENV, WebhookReceiver } from '../helpers/webhooks.js';

const HOOK_SECRET = 'browser-test-secret';

let server: TestServer;
let git: GitClient;
let owner: TestBrowser & { pageErrors: string[] };
let receiver: WebhookReceiver;
/** The commits of the pushed history: `first` (tag v1.0) then `second` on main. */
let first: string;
let second: string;

const test = serverTest(() => server);
const REPO = `${TEST_ADMIN}/demo`;

before(async () => {
  // Fast webhook workers: the delivery log is waited for below.
  server = await startServer({
    ...LOOPBACK_RECEIVERS_ENV,
    GITFLEET_HOOK_POLL_MS: '50',
    GITFLEET_HOOK_BACKOFF_MS: '50',
    GITFLEET_HOOK_TIMEOUT_MS: '5000',
  });
  git = await GitClient.create(2);
  receiver = new WebhookReceiver(HOOK_SECRET);
  await receiver.start();
  ({ first, second } = await pushDemoRepository());
  await ensureUser(server.url, 'stranger');
  owner = await launchBrowser(server.url);
});

after(async () => {
  await owner?.close();
  await receiver?.stop();
  await server?.stop();
  await git?.cleanup();
});

/** A private repository with a README, a source file, a directory, two commits, a branch and a tag. */
async function pushDemoRepository(): Promise<{ first: string; second: string }> {
  const { url } = await server.createRepository(TEST_ADMIN, 'demo', { private: true });
  const work = await git.tempDir('demo');
  await git.ok(['init', '-q', '-b', 'main', work]);
  const write = async (path: string, text: string) => {
    await mkdir(join(work, path, '..'), { recursive: true });
    await writeFile(join(work, path), text);
  };
  const commit = async (message: string, date: string) => {
    await git.ok(['add', '-A'], { cwd: work });
    await git.ok(['commit', '-q', '-m', message], { cwd: work, env: { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } });
    return git.ok(['rev-parse', 'HEAD'], { cwd: work });
  };
  await write('README.md', '# Demo project\n\nSome **bold words** and a [guide](docs/guide.md).\n');
  await write('src/main.ts', 'export function greet(name: string): string {\n  return `hello ${name}`;\n}\n');
  const firstOid = await commit('Initial commit', '2024-01-01T10:00:00Z');
  await git.ok(['tag', '-a', 'v1.0', '-m', 'First release'], { cwd: work });
  await git.ok(['branch', 'feature'], { cwd: work });
  await write('src/main.ts', 'export function greet(name: string): string {\n  return `HELLO ${name.toUpperCase()}!`;\n}\n');
  await write('docs/guide.md', '# Guide\n\nRead the source.\n');
  const secondOid = await commit('Greet loudly\n\nShouting is friendlier.', '2024-01-02T10:00:00Z');
  await git.ok(['push', '-q', url, 'main', 'feature', 'v1.0'], { cwd: work });
  return { first: firstOid, second: secondOid };
}

async function signIn(page: Page, user: string, password: string): Promise<void> {
  await page.goto('/login');
  await page.fill('#login-username', user);
  await page.fill('#login-password', password);
  await Promise.all([page.waitForURL((url) => url.pathname !== '/login'), page.click('#login-submit')]);
}

/** The texts of every element `selector` matches within `scope`, trimmed. */
async function texts(scope: Page | Locator, selector: string): Promise<string[]> {
  return (await scope.locator(selector).allTextContents()).map((text) => text.trim());
}

test('a wrong password shows an error on the sign-in page and signs nobody in', async () => {
  const { page } = owner;
  await page.goto('/login');
  await page.fill('#login-username', TEST_ADMIN);
  await page.fill('#login-password', 'not-the-password');
  const [response] = await Promise.all([
    page.waitForResponse((res) => res.url().endsWith('/login') && res.request().method() === 'POST'),
    page.click('#login-submit'),
  ]);
  assert.equal(response.status(), 401);
  assert.match(await page.locator('#flash-error').innerText(), /incorrect username or password/i);
  assert.equal(await page.inputValue('#login-username'), TEST_ADMIN, 'the name is kept for the next try');
  assert.equal(await page.inputValue('#login-password'), '', 'the password is not sent back');
  assert.equal(await page.locator('#user-menu').count(), 0);
  assert.equal(
    (await owner.context.cookies()).some((cookie) => cookie.name === 'gitfleet_session'),
    false,
  );
});

test('signing in through the form shows the dashboard with the private repository', async () => {
  const { page } = owner;
  await signIn(page, TEST_ADMIN, TEST_ADMIN_PASSWORD);
  assert.equal(new URL(page.url()).pathname, '/');
  assert.equal(await page.getAttribute('#user-menu summary', 'data-user'), TEST_ADMIN);
  const session = (await owner.context.cookies()).find((cookie) => cookie.name === 'gitfleet_session');
  assert.ok(session, 'a session cookie is set');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Lax');
  assert.equal(await page.locator(`#dashboard-repositories li.repository[data-repo="${REPO}"]`).count(), 1);
});

test('the repository page renders its README, lists its files and offers the clone URL', async () => {
  const { page } = owner;
  await Promise.all([
    page.waitForURL(`**/${REPO}`),
    page.click(`#dashboard-repositories li.repository[data-repo="${REPO}"] a[href="/${REPO}"]`),
  ]);
  assert.equal(await page.getAttribute('#repo-header', 'data-repo'), REPO);
  assert.equal(await page.locator('#private-badge').count(), 1);
  // Rendered markdown, not its source.
  const readme = page.locator('#readme .markdown-body');
  assert.equal((await readme.locator('h1').innerText()).trim(), 'Demo project');
  assert.equal((await readme.locator('strong').innerText()).trim(), 'bold words');
  assert.equal(await readme.locator('a', { hasText: 'guide' }).count(), 1);
  assert.equal((await readme.innerText()).includes('**'), false);
  assert.deepEqual(
    await page
      .locator('#file-list tr[data-type]')
      .evaluateAll((rows) => rows.map((row) => `${row.getAttribute('data-type')} ${row.getAttribute('data-path')}`)),
    ['tree docs', 'tree src', 'blob README.md'],
  );
  assert.equal(await page.inputValue('#clone-url'), `${server.url}/${REPO}.git`);
  assert.equal(
    await page
      .locator('#latest-commit')
      .innerText()
      .then((text) => text.includes(second.slice(0, 7))),
    true,
  );
});

test('the tree leads to a highlighted file, and the file to its history', async () => {
  const { page } = owner;
  await Promise.all([page.waitForURL(`**/${REPO}/tree/main/src`), page.click('#file-list tr[data-path="src"] a')]);
  assert.equal(await page.getAttribute('#file-list', 'data-path'), 'src');
  assert.equal(await page.getAttribute('#file-list', 'data-ref'), 'main');
  assert.equal(await page.locator('#parent-directory').count(), 1);

  await Promise.all([page.waitForURL(`**/${REPO}/blob/main/src/main.ts`), page.click('#file-list tr[data-path="src/main.ts"] a')]);
  assert.equal(await page.getAttribute('#blob', 'data-path'), 'src/main.ts');
  assert.notEqual(await page.getAttribute('table#file-content', 'data-language'), '');
  assert.equal(await page.locator('#file-content td[data-line]').count(), 3);
  assert.match(await page.locator('#file-content tr:nth-child(2) td.line').innerText(), /return `HELLO \$\{name\.toUpperCase\(\)\}!`;/);
  // Highlighted: the keyword is marked up by highlight.js, and styled by the page's CSS.
  const keywords = await texts(page, '#file-content tr:first-child td.line .hljs-keyword');
  assert.ok(keywords.includes('export') && keywords.includes('function'), `keywords of line 1: ${keywords.join(', ')}`);
  const keywordColor = await page
    .locator('#file-content .hljs-keyword')
    .first()
    .evaluate((element) => getComputedStyle(element).color);
  const plainColor = await page
    .locator('#file-content td.line')
    .first()
    .evaluate((element) => getComputedStyle(element).color);
  assert.notEqual(keywordColor, plainColor, 'keywords are coloured');

  // The raw view is the file's exact bytes.
  const raw = await page.request.get((await page.getAttribute('#raw-link', 'href')) ?? '');
  assert.equal(raw.status(), 200);
  assert.equal(await raw.text(), 'export function greet(name: string): string {\n  return `HELLO ${name.toUpperCase()}!`;\n}\n');

  await Promise.all([page.waitForURL(`**/${REPO}/commits/main/src/main.ts`), page.click('#blob-history-link')]);
  assert.deepEqual(
    await page.locator('#commit-list li.commit').evaluateAll((items) => items.map((item) => item.getAttribute('data-oid'))),
    [second, first],
  );
  assert.equal((await page.locator('#commits-path').innerText()).trim(), 'src/main.ts');
});

test('the history of a branch lists its commits newest first; a commit page shows its diff', async () => {
  const { page } = owner;
  await page.goto(`/${REPO}`);
  await Promise.all([page.waitForURL(`**/${REPO}/commits/main`), page.click('#history-link')]);
  assert.equal((await page.locator('#commits-ref').innerText()).trim(), 'main');
  assert.deepEqual(await texts(page, '#commit-list li.commit .commit-title'), ['Greet loudly', 'Initial commit']);

  await Promise.all([
    page.waitForURL(`**/${REPO}/commit/${second}`),
    page.click(`#commit-list li.commit[data-oid="${second}"] a.commit-title`),
  ]);
  assert.equal(await page.getAttribute('#commit', 'data-oid'), second);
  assert.equal((await page.locator('#commit-title').innerText()).trim(), 'Greet loudly');
  assert.match(await page.locator('#commit-message').innerText(), /Shouting is friendlier\./);
  assert.match(await page.locator('#commit-author').innerText(), /E2E Tester/);
  assert.equal(await page.locator(`#commit-parents a.parent[href$="/commit/${first}"]`).count(), 1);
  assert.match(await page.locator('#diff-stats').innerText(), /2 changed files/);

  assert.deepEqual(
    await page
      .locator('#diff .diff-file')
      .evaluateAll((files) => files.map((file) => `${file.getAttribute('data-status')} ${file.getAttribute('data-path')}`).sort()),
    ['added docs/guide.md', 'modified src/main.ts'],
  );
  const changed = page.locator('#diff .diff-file[data-path="src/main.ts"]');
  const deleted = await texts(changed, 'tr.del');
  const added = await texts(changed, 'tr.add');
  assert.equal(deleted.length, 1, `one line removed: ${deleted.join(' | ')}`);
  assert.match(deleted[0], /return `hello \$\{name\}`;/);
  assert.equal(added.length, 1, `one line added: ${added.join(' | ')}`);
  assert.match(added[0], /return `HELLO \$\{name\.toUpperCase\(\)\}!`;/);
  assert.ok((await changed.locator('tr.context').count()) >= 2, 'context lines around the change');
  assert.equal(await changed.locator('tr.hunk').count(), 1);
});

test('the branches and tags pages list the refs, the default branch marked', async () => {
  const { page } = owner;
  await page.goto(`/${REPO}`);
  await Promise.all([page.waitForURL(`**/${REPO}/branches`), page.click('#repo-tab-branches')]);
  assert.deepEqual(
    (await page.locator('#branch-list li.ref').evaluateAll((items) => items.map((item) => item.getAttribute('data-ref')))).sort(),
    ['feature', 'main'],
  );
  assert.equal(await page.locator('#branch-list li.ref[data-ref="main"] #default-branch-badge').count(), 1);

  await Promise.all([page.waitForURL(`**/${REPO}/tags`), page.click('#repo-tab-tags')]);
  assert.deepEqual(await page.locator('#tag-list li.ref').evaluateAll((items) => items.map((item) => item.getAttribute('data-ref'))), [
    'v1.0',
  ]);

  // A tag is a ref like any other for the code view.
  await page.goto(`/${REPO}/blob/v1.0/src/main.ts`);
  assert.match(await page.locator('#file-content tr:nth-child(2) td.line').innerText(), /return `hello \$\{name\}`;/);
});

test('a webhook made in the settings is listed, and its ping shows in its delivery log', async () => {
  const { page } = owner;
  await page.goto(`/${REPO}`);
  await Promise.all([page.waitForURL(`**/${REPO}/settings`), page.click('#repo-tab-settings')]);
  await Promise.all([page.waitForURL(`**/${REPO}/settings/hooks`), page.click('#hooks-settings-link')]);
  await Promise.all([page.waitForURL(`**/${REPO}/settings/hooks/new`), page.click('#add-webhook')]);
  await page.fill('#hook-url', receiver.url);
  await page.fill('#hook-secret', HOOK_SECRET);
  await page.check('#hook-events-some');
  await page.check('#hook-event-push');
  await page.check('#hook-event-create');
  await Promise.all([page.waitForURL(/\/settings\/hooks\/\d+$/), page.click('#save-hook')]);
  const hookUrl = new URL(page.url()).pathname;
  const hookId = hookUrl.split('/').pop();

  await page.goto(`/${REPO}/settings/hooks`);
  assert.deepEqual(
    await page.locator('#hook-list li.hook').evaluateAll((items) => items.map((item) => item.getAttribute('data-hook-id'))),
    [hookId],
  );
  assert.match(
    await page.locator(`#hook-list li.hook[data-hook-id="${hookId}"]`).innerText(),
    new RegExp(receiver.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
  );

  // Created hooks are pinged (as GitHub's); the button pings again.
  await receiver.waitFor('the ping sent on creation', (accepted) => accepted.some((delivery) => delivery.event === 'ping'));
  await page.goto(hookUrl);
  await Promise.all([page.waitForURL(/pinged=1/), page.click('#ping-hook')]);
  assert.match(await page.locator('#flash-success').innerText(), /ping/i);
  await receiver.waitFor('the second ping', (accepted) => accepted.filter((delivery) => delivery.event === 'ping').length >= 2);
  const guids = receiver.accepted.filter((delivery) => delivery.event === 'ping').map((delivery) => delivery.guid);

  // The log is written once the receiver answered; reload until both attempts are listed.
  let logged: Array<{ guid: string | null; status: string | null }> = [];
  for (let attempt = 0; attempt < 100 && logged.length < 2; attempt++) {
    await page.goto(hookUrl);
    logged = await page
      .locator('#delivery-list li.delivery')
      .evaluateAll((items) => items.map((item) => ({ guid: item.getAttribute('data-guid'), status: item.getAttribute('data-status') })));
    if (logged.length < 2) await page.waitForTimeout(200);
  }
  assert.deepEqual(
    logged.map((entry) => entry.status),
    ['200', '200'],
  );
  assert.deepEqual(logged.map((entry) => entry.guid).sort(), [...guids].sort());
  // Its details show what was sent and answered.
  const newest = page.locator('#delivery-list li.delivery').first();
  await newest.locator('summary').click();
  assert.match(await newest.locator('.delivery-request-body').innerText(), /"zen"|"hook_id"/);
  assert.match(await newest.locator('.delivery-response-body').innerText(), /got ping/);
});

test('an organization made from the menu gets a member, a team with that member and a repository, and a webhook page', async () => {
  const { page } = owner;
  await page.goto('/organizations/new');
  await page.fill('#org-name', 'crew');
  await Promise.all([page.waitForURL('**/crew'), page.click('#create-organization')]);
  await Promise.all([page.waitForURL('**/orgs/crew/people'), page.click('#org-people-link')]);
  await page.fill('#member-name', 'stranger');
  await page.click('#add-member');
  assert.match(await page.locator('#flash-success').innerText(), /stranger is now a member of crew/);
  assert.deepEqual(
    await page
      .locator('#people-list li.member')
      .evaluateAll((items) => items.map((item) => `${item.getAttribute('data-member')} ${item.getAttribute('data-role')}`)),
    [`${TEST_ADMIN} owner`, 'stranger member'],
  );

  await page.goto('/new?owner=crew');
  await page.fill('#new-repo-name', 'engine');
  await page.check('#visibility-private');
  await Promise.all([page.waitForURL('**/crew/engine'), page.click('#create-repository')]);
  await page.goto('/crew');
  await Promise.all([page.waitForURL('**/orgs/crew/teams'), page.click('#org-teams-link')]);
  await page.fill('#team-name', 'pit');
  await page.selectOption('#team-permission', 'write');
  await Promise.all([page.waitForURL('**/orgs/crew/teams/pit'), page.click('#create-team')]);
  await page.fill('#team-member-name', 'stranger');
  await Promise.all([page.waitForURL('**/orgs/crew/teams/pit/members'), page.click('#add-team-member')]);
  await page.fill('#team-repository-name', 'engine');
  await Promise.all([page.waitForURL('**/orgs/crew/teams/pit/repositories'), page.click('#add-team-repository')]);
  assert.deepEqual(
    await page.locator('#team-members li.member').evaluateAll((items) => items.map((item) => item.getAttribute('data-member'))),
    ['stranger'],
  );
  assert.deepEqual(
    await page.locator('#team-repositories li.repository').evaluateAll((items) => items.map((item) => item.getAttribute('data-repo'))),
    ['crew/engine'],
  );
  assert.equal((await page.locator('#team-permission-badge').innerText()).trim(), 'write');

  await Promise.all([page.waitForURL('**/organizations/crew/settings/hooks'), page.click('#org-tab-hooks')]);
  assert.equal(await page.locator('#add-webhook').count(), 1);
  assert.equal(await page.locator('#hook-list li.hook').count(), 0);
});

test("a commit page colours its diff in the file's language", async () => {
  const { page } = owner;
  await page.goto(`/${REPO}/commit/${second}`);
  const changed = page.locator('#diff .diff-file[data-path="src/main.ts"] table.diff[data-language="ts"]');
  assert.equal(await changed.count(), 1);
  assert.ok((await changed.locator('tr.context span.hljs-keyword').count()) > 0, 'keywords are marked');
  assert.match((await texts(changed, 'tr.add'))[0], /return `HELLO \$\{name\.toUpperCase\(\)\}!`;/, 'the text reads as in the file');
});

test('signing out ends the session: the private repository is then out of reach', async () => {
  const { page, context } = owner;
  const session = (await context.cookies()).find((cookie) => cookie.name === 'gitfleet_session');
  assert.ok(session);
  await page.goto('/');
  await page.click('#user-menu summary');
  await Promise.all([page.waitForURL((url) => url.pathname === '/'), page.click('#sign-out-button')]);
  assert.equal(await page.locator('#sign-in-link').count(), 1);
  assert.equal(await page.locator('#user-menu').count(), 0);
  assert.equal(
    (await context.cookies()).some((cookie) => cookie.name === 'gitfleet_session'),
    false,
  );

  // The old cookie value is dead on the server too, not only dropped by the browser.
  const replayed = await fetch(`${server.url}/${REPO}`, { headers: { cookie: `gitfleet_session=${session.value}` }, redirect: 'manual' });
  assert.equal(replayed.status, 404);
  const response = await page.goto(`/${REPO}`);
  assert.equal(response?.status(), 404);
  assert.equal(await page.getAttribute('#error-page', 'data-status'), '404');
});

test('a signed-in stranger gets the 404 page for the private repository, as for one that does not exist', async () => {
  const stranger = await launchBrowser(server.url);
  try {
    const { page } = stranger;
    await signIn(page, 'stranger', testPassword('stranger'));
    assert.equal(await page.getAttribute('#user-menu summary', 'data-user'), 'stranger');
    assert.equal(await page.locator(`li.repository[data-repo="${REPO}"]`).count(), 0, 'not on the dashboard');

    const missing = await page.goto(`/${TEST_ADMIN}/no-such-repository`);
    assert.equal(missing?.status(), 404);
    const missingText = await page.locator('#error-page').innerText();
    for (const path of [
      `/${REPO}`,
      `/${REPO}/tree/main/src`,
      `/${REPO}/blob/main/README.md`,
      `/${REPO}/commits/main`,
      `/${REPO}/commit/${second}`,
      `/${REPO}/branches`,
      `/${REPO}/settings`,
      `/${REPO}/settings/hooks`,
    ]) {
      const response = await page.goto(path);
      assert.equal(response?.status(), 404, path);
      assert.equal(await page.getAttribute('#error-page', 'data-status'), '404', path);
      assert.equal(await page.locator('#error-page').innerText(), missingText, `${path} looks exactly like a missing repository`);
      assert.equal((await page.content()).includes('Demo project'), false, path);
    }
    assert.deepEqual(stranger.pageErrors, []);
  } finally {
    await stranger.close();
  }
  assert.deepEqual(owner.pageErrors, [], 'no script error on any page');
});
