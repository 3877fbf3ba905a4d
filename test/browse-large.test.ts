// Large blobs and directories read back over HTTP on each storage backend: /raw and the raw
// contents API stream a blob stored whole and rebuild a deltified one (3 MiB each, built
// here), the README over the render limit is not rendered, a directory over the entry cap is
// listed truncated.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { GitClient } from '@gitfleet/test-support/git-client';
import { serverTest, startServer, type TestServer } from '@gitfleet/test-support/server';
import { FastImport, HISTORY_START } from './helpers/history.js';
import { incompressibleText } from '@gitfleet/test-support/noise';

const TREE_MAX_ENTRIES = 50;
const BIG = 3 * 1024 * 1024;

let server: TestServer;
let git: GitClient;
let repoUrl: string;
let readme: Buffer;
let twin: Buffer;

before(async () => {
  server = await startServer({ GITFLEET_TREE_MAX_ENTRIES: String(TREE_MAX_ENTRIES) });
  git = await GitClient.create(2);
  readme = incompressibleText(BIG, 11);
  // Nearly the same bytes: git stores one of the two as a delta of the other.
  twin = Buffer.concat([readme, Buffer.from('one more line\n')]);
  const files: Record<string, Buffer | string> = { 'README.md': readme, 'twin.md': twin };
  for (let i = 0; i < 2 * TREE_MAX_ENTRIES; i++) files[`many/f${String(i).padStart(3, '0')}`] = `${i}\n`;
  const source = await git.init('browse-large-source', { bare: true });
  const fi = new FastImport();
  fi.commit({ ref: 'refs/heads/main', message: 'large things\n', time: HISTORY_START, files });
  await fi.run(git, source);
  const url = await server.createRepo('e2e', 'browse-large');
  await git.ok(['push', url, 'main'], { cwd: source });
  repoUrl = `${server.url}/e2e/browse-large`;
});
after(async () => {
  await git?.cleanup();
  await server?.stop();
});
const it = serverTest(() => server);

describe('large blobs and directories', () => {
  it('/raw streams both files byte for byte, with their length', async () => {
    for (const [path, bytes] of [
      ['README.md', readme],
      ['twin.md', twin],
    ] as const) {
      const response = await fetch(`${repoUrl}/raw/main/${path}`);
      assert.equal(response.status, 200, path);
      assert.equal(response.headers.get('content-length'), String(bytes.length), path);
      assert.ok(Buffer.from(await response.arrayBuffer()).equals(bytes), path);
    }
  });

  it('the raw contents API streams them too', async () => {
    for (const [path, bytes] of [
      ['README.md', readme],
      ['twin.md', twin],
    ] as const) {
      const response = await fetch(`${server.url}/api/v1/repos/e2e/browse-large/contents/${path}`, {
        headers: { accept: 'application/vnd.github.raw' },
      });
      assert.equal(response.status, 200, path);
      assert.ok(Buffer.from(await response.arrayBuffer()).equals(bytes), path);
    }
  });

  it('a README over the render limit is "too large to display", with a link to raw', async () => {
    const response = await fetch(repoUrl);
    const text = await response.text();
    assert.equal(response.status, 200);
    assert.match(text, /id="readme-too-large"[^>]*>README\.md is too large to display/);
    assert.match(text, /href="\/e2e\/browse-large\/raw\/main\/README\.md"/);
  });

  it('a directory over the entry cap is listed truncated, on the page and in the API', async () => {
    const page = await (await fetch(`${repoUrl}/tree/main/many`)).text();
    assert.match(page, /data-truncated="true"/);
    assert.equal(page.match(/data-type="blob"/g)?.length, TREE_MAX_ENTRIES);
    const response = await fetch(`${server.url}/api/v1/repos/e2e/browse-large/contents/many`);
    assert.equal(response.headers.get('x-gitfleet-entries-truncated'), 'true');
    assert.equal(((await response.json()) as unknown[]).length, TREE_MAX_ENTRIES);
  });
});
