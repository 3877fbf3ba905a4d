// The compiled product, started as `pnpm start` starts it (plain node, the @gitfleet/compiled
// condition, server/dist/cli.js; built first when a source is newer than the build): real git
// pushes to it and clones from it, and the work it does on worker threads (indexing the push,
// line diffs, highlighting) and the static files it reads from disk all answer. The process
// runs without tsx, so a module that still resolved to a .ts source would fail to load. It runs as
// `pnpm start` does on a machine of more than two cores: a primary and its workers (two here).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { promisify } from 'node:util';
import { COMPILED_ENTRY, WORKSPACE_ROOT } from '@gitfleet/test-support/cli';
import { GitClient } from '@gitfleet/test-support/git-client';
import { serverTest, startServer, type TestServer } from '@gitfleet/test-support/server';
import { assertFsckClean } from './helpers/compare.js';

/** A build from nothing, on a loaded machine. */
const BUILD_TIMEOUT_MS = 10 * 60_000;

let server: TestServer;
let git: GitClient;
before(
  async () => {
    await promisify(execFile)(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: WORKSPACE_ROOT, timeout: BUILD_TIMEOUT_MS });
    server = await startServer({ GITFLEET_WORKERS: '2' }, { entry: COMPILED_ENTRY });
    git = await GitClient.create(2);
  },
  { timeout: BUILD_TIMEOUT_MS + 120_000 },
);
after(async () => {
  await server?.stop();
  await git?.cleanup();
});
const it = serverTest(() => server);

it('takes a push and serves it back to git clone', async () => {
  const url = await server.createRepo('e2e', 'built-push');
  const work = await git.init('built-work');
  await git.commitFiles(work, { 'README.md': '# built\n', 'src/hello.ts': 'export const greeting = "hello";\n' }, 'first');
  const head = await git.commitFiles(work, { 'src/hello.ts': 'export const greeting = "hello, compiled";\n' }, 'second');
  await git.ok(['push', url, 'main'], { cwd: work });

  const clone = await git.clone(url, 'built-clone');
  assert.equal(await git.revParse(clone, 'HEAD'), head);
  assert.equal(await readFile(join(clone, 'src/hello.ts'), 'utf8'), 'export const greeting = "hello, compiled";\n');
  await assertFsckClean(git, clone);

  const commitPage = await fetch(`${server.url}/e2e/built-push/commit/${head}`);
  assert.equal(commitPage.status, 200);
  const commitHtml = await commitPage.text();
  assert.match(commitHtml, /<span class="additions">\+1<\/span><span class="deletions">−1<\/span>/, 'the line diff of src/hello.ts');
  assert.match(commitHtml, /hello, compiled/);

  const blobPage = await fetch(`${server.url}/e2e/built-push/blob/main/src/hello.ts`);
  assert.equal(blobPage.status, 200);
  assert.match(await blobPage.text(), /class="hljs-keyword">export</, 'highlighted TypeScript');
});

it('serves the web UI static files from beside the compiled server', async () => {
  const css = await fetch(`${server.url}/assets/gitfleet.css`);
  assert.equal(css.status, 200);
  assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
  assert.equal(await css.text(), await readFile(join(WORKSPACE_ROOT, 'server/src/web/assets/gitfleet.css'), 'utf8'));
  const script = await fetch(`${server.url}/assets/gitfleet.js`);
  assert.equal(script.status, 200);
  assert.equal(await script.text(), await readFile(join(WORKSPACE_ROOT, 'server/src/web/assets/gitfleet.js'), 'utf8'));
});
