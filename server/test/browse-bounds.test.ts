/**
 * Browsing under hostile inputs (built here by git, small on disk): a commit rewriting long
 * files, a README over the render limit, a large Markdown file, a directory over the entry
 * cap. Each page or answer is bounded and the event loop of this (in-process) server keeps
 * turning while it is computed.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from './helpers.js';
import { ADMIN, Git, createAdminRepository, pushFixture } from './api-git-fixture.js';
import { MAX_LOOP_HOLD_MS, loopLagDuring } from '@gitfleet/test-support/event-loop';
import { incompressibleText } from '@gitfleet/test-support/noise';
import { tempDir } from '@gitfleet/test-support/temp-dir';

const REPO = 'hostile';
const TREE_MAX_ENTRIES = 50;
const LONG_FILES = 4;
const LONG_LINES = 3_000;
/** Over the default render limit (512 KiB): shown as too large, streamed by /raw. */
const README_BYTES = 3 * 1024 * 1024;

let server: TestServer;
const root = tempDir({ after }, 'browse-bounds');
let rewrite: string;
let wide: string;
/** Files a commit page or answer lists at most (GitHub's 300). */
const FILE_CAP = 300;
let readme: Buffer;

before(async () => {
  const home = path.join(root, 'home');
  const dir = path.join(root, 'work');
  mkdirSync(home);
  mkdirSync(path.join(dir, 'many'), { recursive: true });
  const git = new Git(dir, home);
  git.run(['init', '-q', '-b', 'main']);
  const long = (prefix: string) => {
    for (let file = 0; file < LONG_FILES; file++) {
      writeFileSync(
        path.join(dir, `long${file}.txt`),
        Array.from({ length: LONG_LINES }, (_, line) => `${prefix} ${file} ${line}`).join('\n') + '\n',
      );
    }
  };
  readme = incompressibleText(README_BYTES, 7);
  writeFileSync(path.join(dir, 'README.md'), readme);
  // Nearly the same bytes: git stores one of the two as a delta, rebuilt in memory to be sent.
  writeFileSync(path.join(dir, 'twin.md'), Buffer.concat([readme, Buffer.from('one more line\n')]));
  // Markdown that takes markdown-it a while: many short paragraphs with emphasis and links.
  writeFileSync(
    path.join(dir, 'doc.md'),
    Array.from({ length: 6_000 }, (_, i) => `Para *${i}* with **bold** and [a link](x${i}.md) and \`code\`.\n`).join('\n'),
  );
  for (let i = 0; i < 2 * TREE_MAX_ENTRIES; i++) writeFileSync(path.join(dir, 'many', `f${String(i).padStart(3, '0')}`), `${i}\n`);
  long('old');
  git.run(['add', '-A']);
  git.run(['commit', '-q', '-m', 'long files']);
  long('new');
  git.run(['commit', '-q', '-am', 'rewrite every line']);
  rewrite = git.revParse('main');
  mkdirSync(path.join(dir, 'wide'));
  for (let i = 0; i <= FILE_CAP; i++) writeFileSync(path.join(dir, 'wide', `w${String(i).padStart(3, '0')}`), `${i}\n`);
  git.run(['add', '-A']);
  git.run(['commit', '-q', '-m', 'more files than a commit page lists']);
  wide = git.revParse('main');
  server = await startTestServer({
    GITFLEET_TREE_MAX_ENTRIES: String(TREE_MAX_ENTRIES),
    GITFLEET_DIFF_TIME_MS: '1000',
    GITFLEET_RENDER_TIMEOUT_MS: '30000',
    GITFLEET_IN_MEMORY_READ_BYTES: '1MiB',
  });
  await createAdminRepository(server.url, REPO, { private: false });
  await pushFixture(git, server.url, ADMIN, REPO);
});

after(async () => {
  await server?.stop();
});

const page = async (urlPath: string) => {
  const response = await fetch(`${server.url}/${ADMIN}/${REPO}${urlPath}`);
  return { status: response.status, text: await response.text() };
};

describe('diffs', () => {
  test('a commit rewriting long files answers within its budget, with "not rendered", the loop free', async () => {
    const started = performance.now();
    const { value, maxLagMs } = await loopLagDuring(() => page(`/commit/${rewrite}`));
    const elapsed = performance.now() - started;
    assert.equal(value.status, 200);
    assert.equal(value.text.match(/Large diff not rendered/g)?.length, LONG_FILES);
    assert.ok(maxLagMs < MAX_LOOP_HOLD_MS, `the event loop was held ${maxLagMs.toFixed(0)} ms`);
    assert.ok(elapsed < 10_000, `took ${elapsed.toFixed(0)} ms`);
  });

  test('the commit API says which patches are left out and why', async () => {
    const response = await fetch(`${server.url}/api/v1/repos/${ADMIN}/${REPO}/commits/${rewrite}`);
    const body = (await response.json()) as {
      files: Array<{ filename: string; patch?: string; patch_omitted?: string }>;
      files_truncated: boolean;
    };
    assert.equal(response.status, 200);
    assert.equal(body.files_truncated, false);
    for (const file of body.files) {
      assert.equal(file.patch, undefined, file.filename);
      assert.ok(file.patch_omitted === 'changes' || file.patch_omitted === 'budget', `${file.filename}: ${file.patch_omitted}`);
    }
  });

  test('a commit changing more files than listed says so, on the page and in the API', async () => {
    const commitPage = await page(`/commit/${wide}`);
    assert.match(commitPage.text, new RegExp(`This commit changes more files than shown here \\(the first ${FILE_CAP}\\)`));
    const response = await fetch(`${server.url}/api/v1/repos/${ADMIN}/${REPO}/commits/${wide}`);
    const body = (await response.json()) as { files: unknown[]; files_truncated: boolean; diff_budget_exhausted: boolean };
    assert.deepEqual([body.files.length, body.files_truncated, body.diff_budget_exhausted], [FILE_CAP, true, false]);
  });
});

describe('large files', () => {
  test('a README over the render limit is not rendered: "too large" with a link to raw', async () => {
    const home = await page('');
    assert.equal(home.status, 200);
    assert.match(home.text, /id="readme-too-large"[^>]*>README\.md is too large to display/);
    assert.ok(!home.text.includes(readme.subarray(0, 40).toString()), 'no README content on the page');
  });

  test('/raw and the raw contents API stream the exact bytes', async () => {
    const raw = await fetch(`${server.url}/${ADMIN}/${REPO}/raw/main/README.md`);
    assert.equal(raw.status, 200);
    assert.equal(raw.headers.get('content-length'), String(readme.length));
    assert.equal(raw.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.ok(Buffer.from(await raw.arrayBuffer()).equals(readme));
    const contents = await fetch(`${server.url}/api/v1/repos/${ADMIN}/${REPO}/contents/README.md`, {
      headers: { accept: 'application/vnd.github.raw' },
    });
    assert.equal(contents.status, 200);
    assert.ok(Buffer.from(await contents.arrayBuffer()).equals(readme));
  });

  test('a download cut short gives back the memory it held: the next one is served', async () => {
    for (const file of ['README.md', 'twin.md']) {
      for (let attempt = 0; attempt < 3; attempt++) {
        const aborted = new AbortController();
        const response = await fetch(`${server.url}/${ADMIN}/${REPO}/raw/main/${file}`, { signal: aborted.signal });
        assert.equal(response.status, 200, `${file}, attempt ${attempt}`);
        await response.body!.getReader().read();
        aborted.abort();
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const whole = await fetch(`${server.url}/${ADMIN}/${REPO}/raw/main/${file}`);
      assert.equal(whole.status, 200, file);
      assert.equal((await whole.arrayBuffer()).byteLength, readme.length + (file === 'twin.md' ? 14 : 0));
    }
  });

  test('Markdown is rendered off the event loop', async () => {
    const { value, maxLagMs } = await loopLagDuring(() => page('/blob/main/doc.md'));
    assert.equal(value.status, 200);
    assert.match(value.text, /data-rendered="markdown"/);
    assert.match(value.text, /<strong>bold<\/strong>/);
    assert.ok(maxLagMs < MAX_LOOP_HOLD_MS, `the event loop was held ${maxLagMs.toFixed(0)} ms`);
  });

  test('highlighting is done off the event loop', async () => {
    const { value, maxLagMs } = await loopLagDuring(() => page('/blob/main/doc.md?plain=1'));
    assert.equal(value.status, 200);
    assert.match(value.text, /id="L6000"|id="L11999"/);
    assert.ok(maxLagMs < MAX_LOOP_HOLD_MS, `the event loop was held ${maxLagMs.toFixed(0)} ms`);
  });
});

describe('large directories', () => {
  test('the tree page lists the first entries and says the list is truncated', async () => {
    const tree = await page('/tree/main/many');
    assert.equal(tree.status, 200);
    assert.match(tree.text, /data-truncated="true"/);
    assert.match(tree.text, new RegExp(`only the first ${TREE_MAX_ENTRIES} are shown`));
    assert.equal(tree.text.match(/data-type="blob"/g)?.length, TREE_MAX_ENTRIES);
  });

  test('the contents API returns the first entries and says it is truncated', async () => {
    const response = await fetch(`${server.url}/api/v1/repos/${ADMIN}/${REPO}/contents/many`);
    const entries = (await response.json()) as Array<{ name: string }>;
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-gitfleet-entries-truncated'), 'true');
    assert.deepEqual(
      entries.map((entry) => entry.name),
      Array.from({ length: TREE_MAX_ENTRIES }, (_, i) => `f${String(i).padStart(3, '0')}`),
    );
    const object = await fetch(`${server.url}/api/v1/repos/${ADMIN}/${REPO}/contents/many`, {
      headers: { accept: 'application/vnd.github.object' },
    });
    assert.equal(((await object.json()) as { truncated?: boolean }).truncated, true);
  });
});

describe('a full diff pool', () => {
  test('refuses with 503 and a message (JSON for the API, a page for the web)', async () => {
    const busy = await startTestServer({ GITFLEET_BROWSE_THREADS: '1', GITFLEET_BROWSE_QUEUE: '0' });
    try {
      await createAdminRepository(busy.url, REPO, { private: false });
      await pushFixture(new Git(path.join(root, 'work'), path.join(root, 'home')), busy.url, ADMIN, REPO);
      // Different limits (web and API) are different diffs: both need the one thread at once.
      const [web, apiAnswer] = await Promise.all([
        fetch(`${busy.url}/${ADMIN}/${REPO}/commit/${rewrite}`),
        fetch(`${busy.url}/api/v1/repos/${ADMIN}/${REPO}/commits/${rewrite}`),
      ]);
      const statuses = [web.status, apiAnswer.status];
      assert.ok(statuses.includes(503) && statuses.includes(200), `statuses ${statuses}`);
      if (apiAnswer.status === 503) assert.match(((await apiAnswer.json()) as { message: string }).message, /busy/);
      else assert.match(await web.text(), /id="error-page" data-status="503"/);
    } finally {
      await busy.stop();
    }
  });
});
