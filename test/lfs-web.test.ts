/**
 * Files Git LFS tracks, in the web UI: the file page shows the real file (text rendered, an
 * image inline, a missing object said so), and /{owner}/{repo}/media/{ref}/{path} downloads the
 * object (from the bucket on the distributed backend), whole or a range; any other file there
 * is its raw bytes. Pushed with the real git-lfs client.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe } from 'node:test';
import { GitClient } from '@gitfleet/test-support/git-client';
import { distributedStorage, selectedBackend, type StorageBackend } from '@gitfleet/test-support/server-storage';
import { serverTest, startServer, testPassword, type ServerProcess, type TestServer } from '@gitfleet/test-support/server';

const OWNER = 'mira';

function urlAs(server: TestServer, owner: string, name: string): string {
  const url = new URL(`${server.url}/${owner}/${name}.git`);
  url.username = OWNER;
  url.password = testPassword(OWNER);
  return url.toString();
}

describe('Git LFS files in the web UI', () => {
  let server: ServerProcess;
  let storage: StorageBackend | undefined;
  let client: GitClient;
  const distributed = selectedBackend() === 'distributed';
  const test = serverTest(() => server);
  const notes = Buffer.from(Array.from({ length: 40 }, (_, i) => `line ${i} of the tracked notes`).join('\n') + '\n');
  const image = Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), randomBytes(4000)]);
  const ghostOid = createHash('sha256').update('never uploaded').digest('hex');

  before(async () => {
    storage = distributed ? distributedStorage({ label: 'lfs-web' }) : undefined;
    server = await startServer({}, { storage });
    await server.createRepository(OWNER, 'site');
    await server.createRepository(OWNER, 'hidden', { private: true });
    client = await GitClient.create(2, { authorization: null });
    await client.ok(['lfs', 'install']);
    const work = await client.init('work');
    await client.ok(['lfs', 'install', '--local'], { cwd: work });
    await client.ok(['lfs', 'track', '*.txt', '*.png', '*.bin'], { cwd: work });
    await client.commitFiles(
      work,
      {
        'notes.txt': notes,
        'logo.png': image,
        'README.md': 'plain file\n',
        // A pointer whose object was never uploaded (pushed past git-lfs's pre-push hook below).
        'ghost.bin': `version https://git-lfs.github.com/spec/v1\noid sha256:${ghostOid}\nsize 1234\n`,
      },
      'assets',
    );
    const uploaded = [notes, image].map((bytes) => createHash('sha256').update(bytes).digest('hex'));
    for (const repo of ['site', 'hidden']) {
      await client.ok(['lfs', 'push', '--object-id', urlAs(server, OWNER, repo), ...uploaded], { cwd: work });
      await client.ok(['push', '-q', '--no-verify', urlAs(server, OWNER, repo), 'main'], { cwd: work });
    }
  });

  after(async () => {
    await client?.cleanup();
    await server?.stop();
    await storage?.dispose();
  });

  const page = async (path: string) => {
    const response = await fetch(`${server.url}/${OWNER}/site/blob/main/${path}`);
    assert.equal(response.status, 200, path);
    return response.text();
  };

  test('a text file is shown as the file, marked as stored with Git LFS, with a download link', async () => {
    const html = await page('notes.txt');
    assert.match(html, /id="lfs-badge">Stored with Git LFS/);
    assert.match(html, /<table class="code" id="file-content"[^>]* data-lfs="true"/);
    assert.match(html, /line 39 of the tracked notes/);
    assert.doesNotMatch(html, /oid sha256:/, 'the pointer is not what is shown');
    assert.match(html, new RegExp(`id="media-link" href="/${OWNER}/site/media/main/notes.txt"`));
  });

  test('an image is shown inline from its media URL; a missing object is said to be missing', async () => {
    assert.match(await page('logo.png'), new RegExp(`<img src="/${OWNER}/site/media/main/logo.png"`));
    const ghost = await page('ghost.bin');
    assert.match(ghost, /data-lfs="missing"/);
    assert.match(ghost, new RegExp(`object ${ghostOid} \\(1\\.2 KiB\\) is not on this server`));
  });

  test('media downloads the object, whole or a range; from the bucket on the distributed backend', async () => {
    const direct = await fetch(`${server.url}/${OWNER}/site/media/main/notes.txt`, { redirect: 'manual' });
    if (distributed) {
      assert.equal(direct.status, 302);
      assert.notEqual(new URL(direct.headers.get('location')!).origin, new URL(server.url).origin, 'the bytes come from the object store');
    } else {
      assert.equal(direct.status, 200);
      assert.equal(direct.headers.get('x-content-type-options'), 'nosniff');
      await direct.arrayBuffer();
    }
    const whole = await fetch(`${server.url}/${OWNER}/site/media/main/notes.txt`);
    assert.deepEqual(Buffer.from(await whole.arrayBuffer()), notes);
    const ranged = await fetch(`${server.url}/${OWNER}/site/media/main/logo.png`, { headers: { range: 'bytes=8-107' } });
    assert.equal(ranged.status, 206);
    assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), image.subarray(8, 108));
  });

  test('media of a file that is no pointer is the file; of a missing object or a private repository, 404', async () => {
    const readme = await fetch(`${server.url}/${OWNER}/site/media/main/README.md`);
    assert.equal(await readme.text(), 'plain file\n');
    assert.equal((await fetch(`${server.url}/${OWNER}/site/media/main/ghost.bin`)).status, 404);
    assert.equal((await fetch(`${server.url}/${OWNER}/hidden/media/main/notes.txt`)).status, 404);
  });
});
