import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startApiServer, type ApiClient, type TestUser } from './api-client.js';
import type { TestServer } from './helpers.js';
import { TEST_ADMIN, TEST_ADMIN_PASSWORD, TEST_ADMIN_TOKEN } from '@gitfleet/test-support/server';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { HOSTILE_FILE, LONG_BRANCH_COMMITS, MERGE_BRANCH, WebClient, buildRepository, git, pushAll } from './web-fixture.js';

let server: TestServer;
let api: ApiClient;
const repoDir = tempDir({ after }, 'web-repo');
let stranger: TestUser;
let headOid: string;
/** Signed in once for the whole file: each sign-in pays for a password hash check. */
let adminClient: WebClient;
let strangerClient: WebClient;

before(async () => {
  ({ server, api } = await startApiServer());
  await buildRepository(repoDir);
  await api.expect(201, 'POST', '/user/repos', { as: api.admin, body: { name: 'demo', description: 'A <b>demo</b> repository' } });
  await api.expect(201, 'POST', '/user/repos', { as: api.admin, body: { name: 'secret', private: true } });
  const remote = (name: string) => `${server.url.replace('://', `://${TEST_ADMIN}:${TEST_ADMIN_TOKEN}@`)}/${TEST_ADMIN}/${name}.git`;
  await pushAll(repoDir, remote('demo'));
  await pushAll(repoDir, remote('secret'));
  headOid = await git(repoDir, 'rev-parse', 'main');
  stranger = await api.createUser('stranger');
  adminClient = new WebClient(server.url);
  await adminClient.signIn(TEST_ADMIN, TEST_ADMIN_PASSWORD);
  strangerClient = new WebClient(server.url);
  await strangerClient.signIn(stranger.name, stranger.password);
});

after(async () => {
  await server?.stop();
});

describe('signing in and out', () => {
  test('a right password sets the session cookie and goes back to the local return_to', async () => {
    const client = new WebClient(server.url);
    const response = await client.post('/login', { username: TEST_ADMIN, password: TEST_ADMIN_PASSWORD, return_to: '/root/demo' });
    assert.equal(response.status, 303);
    assert.equal(response.headers.get('location'), '/root/demo');
    const cookie = response.headers.get('set-cookie') ?? '';
    assert.match(cookie, /^gitfleet_session=[^;]+;/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);
    assert.match(cookie, /Path=\//);
    client.cookie = cookie.split(';')[0];
    const home = await client.get('/');
    assert.match(home.text, /<summary data-user="root">root<\/summary>/);
  });

  test('return_to pointing at another site is ignored', async () => {
    const client = new WebClient(server.url);
    for (const target of ['//evil.example/x', 'https://evil.example/', '/\\evil.example']) {
      const response = await client.post('/login', { username: TEST_ADMIN, password: TEST_ADMIN_PASSWORD, return_to: target });
      assert.equal(response.headers.get('location'), '/', target);
    }
  });

  test('a wrong password is a 401 page with the form again and no cookie', async () => {
    const client = new WebClient(server.url);
    const response = await client.post('/login', { username: TEST_ADMIN, password: 'wrong', return_to: '/' });
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('set-cookie'), null);
    assert.match(response.text, /Incorrect username or password/);
    assert.match(response.text, /id="login-form"/);
  });

  test('a sign-in form posted from another site is refused', async () => {
    const response = await fetch(`${server.url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin: 'https://evil.example' },
      body: new URLSearchParams({ username: TEST_ADMIN, password: TEST_ADMIN_PASSWORD }),
    });
    assert.equal(response.status, 403);
    assert.equal(response.headers.get('set-cookie'), null);
  });

  test('signing out ends the session', async () => {
    const client = new WebClient(server.url);
    await client.signIn(TEST_ADMIN, TEST_ADMIN_PASSWORD);
    const session = client.cookie;
    const response = await client.submit('/', '/logout', {});
    assert.equal(response.status, 303);
    assert.match(response.headers.get('set-cookie') ?? '', /gitfleet_session=;/);
    client.cookie = session;
    const home = await client.get('/');
    assert.match(home.text, /id="sign-in-link"/, 'the old cookie no longer signs in');
  });

  test('a form posted with the session but without its CSRF token is refused', async () => {
    const response = await adminClient.post('/new', { owner: TEST_ADMIN, name: 'csrf-victim', visibility: 'public' });
    assert.equal(response.status, 403);
    await api.expect(404, 'GET', '/repos/root/csrf-victim', { as: api.admin });
  });
});

describe('repository pages', () => {
  test('anonymous home lists public repositories only', async () => {
    const page = await new WebClient(server.url).get('/');
    assert.equal(page.status, 200);
    assert.match(page.text, /data-repo="root\/demo"/);
    assert.doesNotMatch(page.text, /root\/secret/);
  });

  test('the repository home shows the clone URL, the root tree and the README rendered safely', async () => {
    const page = await new WebClient(server.url).get('/root/demo');
    assert.equal(page.status, 200);
    assert.match(page.text, new RegExp(`id="clone-url" readonly value="${server.url}/root/demo.git"`));
    assert.match(page.text, /<tr data-path="src" data-type="tree">/);
    assert.match(page.text, /<tr data-path="README.md" data-type="blob">/);
    assert.match(page.text, /<h1>Demo project<\/h1>/);
    assert.match(page.text, /href="\/root\/demo\/blob\/main\/docs\/guide.md"/);
    assert.match(page.text, /src="\/root\/demo\/raw\/main\/img\/logo.png"/);
    assert.match(page.text, /href="https:\/\/example.com\/x"/);
    assert.doesNotMatch(page.text, /<script>alert/);
    assert.match(page.text, /&lt;script&gt;alert\(&#39;readme&#39;\)&lt;\/script&gt;|&lt;script&gt;alert\('readme'\)&lt;\/script&gt;/);
    assert.match(page.text, /A &lt;b&gt;demo&lt;\/b&gt; repository/, 'the description is escaped');
  });

  test('a hostile file name is escaped in the tree', async () => {
    const page = await new WebClient(server.url).get('/root/demo');
    assert.doesNotMatch(page.text, /<img src=x onerror/);
    assert.match(page.text, /&lt;img src=x onerror=alert\(1\)&gt;\.txt/);
    const blob = await new WebClient(server.url).get(`/root/demo/blob/main/${encodeURIComponent(HOSTILE_FILE)}`);
    assert.equal(blob.status, 200);
    assert.doesNotMatch(blob.text, /<img src=x onerror/);
  });

  test('a tree at a branch whose name has a slash', async () => {
    const page = await new WebClient(server.url).get('/root/demo/tree/feature/x/src');
    assert.equal(page.status, 200);
    assert.match(page.text, /data-path="src\/feature.ts"/);
    assert.match(page.text, /id="file-list" data-ref="feature\/x" data-path="src"/);
    const missing = await new WebClient(server.url).get('/root/demo/tree/no-such-branch/src');
    assert.equal(missing.status, 404);
  });

  test('trees at a tag and at a commit id', async () => {
    const atTag = await new WebClient(server.url).get('/root/demo/tree/v1.0/src');
    assert.equal(atTag.status, 200);
    assert.match(atTag.text, /data-path="src\/main.ts"/);
    const atCommit = await new WebClient(server.url).get(`/root/demo/tree/${headOid.slice(0, 10)}/docs`);
    assert.equal(atCommit.status, 200);
    assert.match(atCommit.text, /data-path="docs\/guide.md"/);
  });

  test('a source file is highlighted with numbered lines', async () => {
    const page = await new WebClient(server.url).get('/root/demo/blob/main/src/main.ts');
    assert.equal(page.status, 200);
    assert.match(page.text, /id="file-content" data-language="ts"/);
    assert.match(page.text, /<span class="hljs-keyword">export<\/span>/);
    assert.match(page.text, /id="L6" data-line="6"><a href="#L6">6<\/a>/);
    assert.doesNotMatch(page.text, /id="L7"/);
    // The block comment spans lines 2–3: each line's markup is closed on that line.
    const line2 = /<td class="num" id="L2"[^]*?<\/tr>/.exec(page.text)?.[0] ?? '';
    assert.equal((line2.match(/<span/g) ?? []).length, (line2.match(/<\/span>/g) ?? []).length);
  });

  test('a Markdown file is rendered, with its relative links resolved from its directory', async () => {
    const page = await new WebClient(server.url).get('/root/demo/blob/main/docs/guide.md');
    assert.match(page.text, /class="markdown-body" id="file-content" data-rendered="markdown"/);
    assert.match(page.text, /href="\/root\/demo\/blob\/main\/README.md"/);
    const plain = await new WebClient(server.url).get('/root/demo/blob/main/docs/guide.md?plain=1');
    assert.match(plain.text, /<table class="code" id="file-content" data-language="md">/);
  });

  test('the branch selector keeps the path, and views redirect between file and directory', async () => {
    const client = new WebClient(server.url);
    const picked = await client.get('/root/demo/tree?ref=feature%2Fx&path=src%2Ffeature.ts');
    assert.equal(picked.status, 303);
    assert.equal(picked.headers.get('location'), '/root/demo/tree/feature/x/src/feature.ts');
    const toBlob = await client.get('/root/demo/tree/feature/x/src/feature.ts');
    assert.equal(toBlob.status, 302);
    assert.equal(toBlob.headers.get('location'), '/root/demo/blob/feature/x/src/feature.ts');
    const toTree = await client.get('/root/demo/blob/main/src');
    assert.equal(toTree.headers.get('location'), '/root/demo/tree/main/src');
    assert.equal((await client.get('/root/demo/blob/main/src/missing.ts')).status, 404);
  });

  test('a binary file is described, not shown', async () => {
    const page = await new WebClient(server.url).get('/root/demo/blob/main/data/blob.bin');
    assert.equal(page.status, 200);
    assert.match(page.text, /binary file, 8 bytes/);
    assert.match(page.text, /href="\/root\/demo\/raw\/main\/data\/blob.bin"/);
  });

  test('raw bytes come with types and headers that cannot run as a page', async () => {
    const text = await fetch(`${server.url}/root/demo/raw/main/src/main.ts`);
    assert.equal(text.status, 200);
    assert.equal(text.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(text.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(text.headers.get('content-security-policy'), 'sandbox');
    assert.match(await text.text(), /answer: number = 42/);
    const binary = await fetch(`${server.url}/root/demo/raw/main/data/blob.bin`);
    assert.equal(binary.headers.get('content-type'), 'application/octet-stream');
    assert.deepEqual([...Buffer.from(await binary.arrayBuffer())], [0, 1, 2, 3, 0, 255, 254, 0]);
    const readme = await fetch(`${server.url}/root/demo/raw/main/README.md`);
    assert.equal(readme.headers.get('content-type'), 'text/plain; charset=utf-8', 'HTML-ish text is still plain text');
  });

  test('history is paginated with a cursor, newest first, messages escaped', async () => {
    const client = new WebClient(server.url);
    const first = await client.get('/root/demo/commits/long');
    assert.equal(first.status, 200);
    const oids = (text: string) => [...text.matchAll(/<li class="commit" data-oid="([0-9a-f]{40})"/g)].map((match) => match[1]);
    const firstPage = oids(first.text);
    assert.equal(firstPage.length, 30);
    assert.equal(firstPage[0], await git(repoDir, 'rev-parse', 'long'));
    const older = /id="older-commits" rel="next" href="([^"]+)"/.exec(first.text)?.[1];
    assert.ok(older, 'an Older link');
    assert.equal(older, `/root/demo/commits/long?after=${firstPage[29]}`);
    const second = await client.get(older.replace(/&amp;/g, '&'));
    const secondPage = oids(second.text);
    const expected = (await git(repoDir, 'rev-list', 'long')).split('\n').slice(30);
    assert.equal(expected.length, LONG_BRANCH_COMMITS + 2 - 30);
    assert.deepEqual(secondPage, expected);
    assert.doesNotMatch(second.text, /id="older-commits"/);
    assert.doesNotMatch(second.text, /<script>alert/);
    assert.match(second.text, /&lt;script&gt;alert\(&quot;commit&quot;\)&lt;\/script&gt; tidy up/);
  });

  test('paging through merges shows every commit once, in git log order', async () => {
    const client = new WebClient(server.url);
    const seen: string[] = [];
    let next: string | undefined = `/root/demo/commits/${MERGE_BRANCH}`;
    let pages = 0;
    let resumedAcrossMerges = 0;
    while (next) {
      if (next.includes('&pending=')) resumedAcrossMerges++;
      const page = await client.get(next);
      assert.equal(page.status, 200, next);
      seen.push(...[...page.text.matchAll(/<li class="commit" data-oid="([0-9a-f]{40})"/g)].map((match) => match[1]));
      next = /id="older-commits" rel="next" href="([^"]+)"/.exec(page.text)?.[1]?.replace(/&amp;/g, '&');
      pages++;
    }
    const expected = (await git(repoDir, 'rev-list', MERGE_BRANCH)).split('\n');
    assert.ok(pages >= 3, `${pages} pages`);
    assert.ok(resumedAcrossMerges > 0, 'a page ended with other sides of merges still to show');
    assert.deepEqual(seen, expected);
  });

  test('"Newer" goes back exactly one page, through merges, to the first page', async () => {
    const client = new WebClient(server.url);
    const commitsOf = (text: string) => [...text.matchAll(/<li class="commit" data-oid="([0-9a-f]{40})"/g)].map((match) => match[1]);
    const link = (text: string, id: string) =>
      new RegExp(`id="${id}" rel="(?:next|prev)" href="([^"]+)"`).exec(text)?.[1]?.replace(/&amp;/g, '&');
    const forward: Array<{ url: string; commits: string[] }> = [];
    let url: string | undefined = `/root/demo/commits/${MERGE_BRANCH}`;
    while (url) {
      const page = await client.get(url);
      forward.push({ url, commits: commitsOf(page.text) });
      assert.equal(/id="newer-commits"/.test(page.text), forward.length > 1, `a Newer link on every page but the first (${url})`);
      url = link(page.text, 'older-commits');
    }
    assert.ok(forward.length >= 3, `${forward.length} pages`);
    // From the last page back to the first, each Newer page is the page seen before it.
    let page = await client.get(forward[forward.length - 1].url);
    for (let index = forward.length - 2; index >= 0; index--) {
      const newer = link(page.text, 'newer-commits');
      assert.ok(newer, `a Newer link back to page ${index + 1}`);
      page = await client.get(newer);
      assert.equal(page.status, 200, newer);
      assert.deepEqual(commitsOf(page.text), forward[index].commits, `page ${index + 1}`);
    }
    assert.equal(link(page.text, 'newer-commits'), undefined, 'the first page has no Newer link');
    assert.doesNotMatch(page.text, /id="newer-commits"/);
  });

  test('"Newer" on a path\'s history goes back one page number', async () => {
    const client = new WebClient(server.url);
    const second = await client.get('/root/demo/commits/long/src/main.ts?page=2');
    assert.equal(second.status, 200);
    assert.match(second.text, /id="newer-commits" rel="prev" href="\/root\/demo\/commits\/long\/src\/main.ts"/);
    const third = await client.get('/root/demo/commits/long/src/main.ts?page=3');
    assert.match(third.text, /id="newer-commits" rel="prev" href="\/root\/demo\/commits\/long\/src\/main.ts\?page=2"/);
    assert.doesNotMatch((await client.get('/root/demo/commits/long/src/main.ts')).text, /id="newer-commits"/);
  });

  test('a malformed Newer trail is refused', async () => {
    const client = new WebClient(server.url);
    const after = await git(repoDir, 'rev-parse', 'long~5');
    for (const trail of ['nothex', `${after}..${after}`, `${after}~zz`, 'a'.repeat(5000)]) {
      const page = await client.get(`/root/demo/commits/long?after=${after}&newer=${encodeURIComponent(trail)}`);
      assert.equal(page.status, 400, trail.slice(0, 50));
    }
    assert.equal((await client.get(`/root/demo/commits/long?newer=${after}`)).status, 400, 'a trail without a cursor');
  });

  test('a commit page shows its message, parents and diff', async () => {
    const page = await new WebClient(server.url).get(`/root/demo/commit/${headOid}`);
    assert.equal(page.status, 200);
    assert.ok(page.text.includes(`id="commit-sha">${headOid}<`));
    assert.match(page.text, /id="commit-title">&lt;script&gt;/);
    assert.match(page.text, /Body with &lt;b&gt;markup&lt;\/b&gt;/);
    assert.match(page.text, /class="box diff-file" data-path="src\/main.ts" data-status="modified"/);
    // Highlighted in the file's language, each line's text as in the file.
    assert.match(page.text, /<table class="diff" data-language="ts">/);
    const removed =
      /<tr class="del"><td class="num">1<\/td><td class="num"><\/td><td class="line">(.*?)<\/td><\/tr>/.exec(page.text)?.[1] ?? '';
    const added =
      /<tr class="add"><td class="num"><\/td><td class="num">1<\/td><td class="line">(.*?)<\/td><\/tr>/.exec(page.text)?.[1] ?? '';
    assert.equal(textOf(removed), '-export const answer: number = 41;');
    assert.equal(textOf(added), '+export const answer: number = 42;');
    assert.match(added, /^\+<span class="hljs-keyword">export<\/span>/);
    // A block comment spanning lines is coloured on each of its lines, and every line's spans are closed.
    const context = [...page.text.matchAll(/<tr class="context">.*?<td class="line">(.*?)<\/td><\/tr>/g)].map((match) => match[1]);
    assert.ok(
      context.some((line) => line.includes('<span class="hljs-comment">   over lines */</span>')),
      context.join('\n'),
    );
    for (const line of [removed, added, ...context]) assert.equal(line.split('<span').length, line.split('</span>').length, line);
    const parent = await git(repoDir, 'rev-parse', 'main~1');
    assert.ok(page.text.includes(`href="/root/demo/commit/${parent}"`));
    const root = await new WebClient(server.url).get(`/root/demo/commit/${parent}`);
    assert.match(root.text, /none \(root commit\)/);
    assert.match(root.text, /data-path="img\/logo.png" data-status="added"/);
  });

  test("a comparison page shows head's commits and the highlighted diff from the merge base", async () => {
    const page = await new WebClient(server.url).get('/root/demo/compare/main...feature/x');
    assert.equal(page.status, 200);
    assert.match(page.text, /id="compare" data-base="main" data-head="feature\/x"/);
    assert.match(page.text, /id="compare-status">feature\/x is 1 commit ahead of and\s+\d+ behind main/);
    const featureCommit = await git(repoDir, 'rev-parse', 'feature/x');
    assert.deepEqual(
      [...page.text.matchAll(/<li class="commit" data-oid="([0-9a-f]{40})"/g)].map((match) => match[1]),
      [featureCommit],
    );
    assert.match(page.text, /class="box diff-file" data-path="src\/feature.ts" data-status="added"/);
    assert.match(page.text, /<table class="diff" data-language="ts">/);
    assert.match(page.text, /<td class="line">\+<span class="hljs-keyword">export<\/span>/);
    assert.ok(page.text.includes(`href="/root/demo/blob/${featureCommit}/src/feature.ts"`), 'files open at head');

    assert.equal((await new WebClient(server.url).get('/root/demo/compare/main')).status, 404, 'no "..."');
    assert.equal((await new WebClient(server.url).get('/root/demo/compare/main...no-such-branch')).status, 404);
    assert.equal((await strangerClient.get('/root/secret/compare/main...feature/x')).status, 404, 'a private repository stays hidden');
    assert.equal((await adminClient.get('/root/secret/compare/main...feature/x')).status, 200);
  });

  test('branches and tags', async () => {
    const branches = await new WebClient(server.url).get('/root/demo/branches');
    assert.equal(branches.status, 200);
    const names = [...branches.text.matchAll(/<li class="ref" data-ref="([^"]+)"/g)].map((match) => match[1]);
    assert.deepEqual(names, ['main', 'feature/x', 'long', MERGE_BRANCH]);
    assert.match(branches.text, /id="default-branch-badge"/);
    assert.match(branches.text, /class="btn btn-small compare-link" href="\/root\/demo\/compare\/main...feature\/x"/);
    assert.equal([...branches.text.matchAll(/compare-link/g)].length, 3, 'every branch but the default');
    const tags = await new WebClient(server.url).get('/root/demo/tags');
    assert.match(tags.text, /<li class="ref" data-ref="v1.0"/);
    assert.ok(tags.text.includes(`href="/root/demo/commit/${headOid}"`), 'the annotated tag is peeled to its commit');
  });

  test('"name.git" in a browser redirects to the repository page', async () => {
    const response = await new WebClient(server.url).get('/root/demo.git');
    assert.equal(response.status, 301);
    assert.equal(response.headers.get('location'), '/root/demo');
  });
});

describe('who sees what', () => {
  test('a private repository is a 404 to anonymous visitors and strangers, and visible to its owner', async () => {
    for (const client of [new WebClient(server.url), strangerClient]) {
      for (const path of [
        '/root/secret',
        '/root/secret/tree/main/src',
        '/root/secret/blob/main/README.md',
        '/root/secret/raw/main/README.md',
        '/root/secret/commits/main',
      ]) {
        const page = await client.get(path);
        assert.equal(page.status, 404, `${path} as ${client.cookie ? 'stranger' : 'anonymous'}`);
        assert.doesNotMatch(page.text, /Demo project/);
      }
      const owner = await client.get('/root');
      assert.doesNotMatch(owner.text, /root\/secret|data-repo="root\/secret"/);
    }
    const mine = await adminClient.get('/root/secret');
    assert.equal(mine.status, 200);
    assert.match(mine.text, /id="private-badge"/);
  });

  test('settings need sign-in (redirect) and admin access (403 for a reader)', async () => {
    const anonymous = await new WebClient(server.url).get('/root/demo/settings');
    assert.equal(anonymous.status, 303);
    assert.equal(anonymous.headers.get('location'), '/login?return_to=%2Froot%2Fdemo%2Fsettings');
    const refused = await strangerClient.get('/root/demo/settings');
    assert.equal(refused.status, 403);
    assert.doesNotMatch((await strangerClient.get('/root/demo')).text, /id="repo-tab-settings"/);
    assert.match((await adminClient.get('/root/demo')).text, /id="repo-tab-settings"/);
  });
});

/** What a line of highlighted HTML reads as: its text, tags removed and entities decoded. */
function textOf(lineHtml: string): string {
  return lineHtml
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&amp;/g, '&');
}
