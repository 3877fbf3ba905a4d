// A server whose disk fills up: a real server on a small tmpfs, real git. A push that does not
// fit is refused with a message that says so (not "internal error"), changes no ref and leaves
// no file behind, and the same push succeeds once space is freed; the REST API and LFS answer 507.
// Mounting the file system needs root, which .ci/run has.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { GitClient } from '@gitfleet/test-support/git-client';
import { adminHeaders } from '@gitfleet/test-support/server';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { spawnServer, type ServerProcess } from './helpers/webhooks.js';

const run = promisify(execFile);
const FILE_SYSTEM_BYTES = 32 * 1024 * 1024;
const NO_SPACE = /no storage space left/;
const LFS_JSON = 'application/vnd.git-lfs+json';

/** Why a small file system cannot be mounted here (not root, or a container without the right), or false. */
async function cannotMount(): Promise<string | false> {
  if (process.getuid?.() !== 0) return 'mounting a small file system needs root';
  const probe = await mkdtemp(join(tmpdir(), 'gitfleet-mount-probe-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe]);
    await run('umount', [probe]);
    return false;
  } catch (error) {
    return `mount -t tmpfs failed: ${(error as Error).message}`;
  } finally {
    await rm(probe, { recursive: true, force: true });
  }
}

describe('a full disk', { skip: await cannotMount() }, () => {
  let server: ServerProcess;
  let git: GitClient;
  let mounted: string;

  before(async () => {
    mounted = join(root, 'mnt');
    await mkdir(mounted);
    await run('mount', ['-t', 'tmpfs', '-o', `size=${FILE_SYSTEM_BYTES}`, 'tmpfs', mounted]);
    server = await spawnServer(join(mounted, 'data'), {});
    git = await GitClient.create(0);
  });
  after(async () => {
    await server?.kill('SIGTERM');
    await git?.cleanup();
    if (mounted) await run('umount', [mounted]);
  });
  // After the hook that unmounts: after-hooks run in order.
  const root = tempDir({ after }, 'storage-full');

  /** A working copy of a new repository with one pushed commit, and the server's refs of it. */
  async function pushedRepository(name: string) {
    const url = await server.createRepo('ci', name);
    const work = await git.init(name);
    await git.commitFiles(work, { 'README.md': 'hello\n' }, 'first');
    await git.ok(['push', url, 'HEAD:refs/heads/main'], { cwd: work });
    return { url, work, refs: await git.ok(['ls-remote', url]) };
  }

  /** Leaves about `bytes` free on the file system; the returned function frees the rest again. */
  async function fillLeaving(bytes: number): Promise<() => Promise<void>> {
    const filler = join(mounted, 'filler');
    const { bavail, bsize } = await statfs(mounted);
    await writeFile(filler, Buffer.alloc(Math.max(0, bavail * bsize - bytes)));
    return () => rm(filler, { force: true });
  }

  /** `git push` of HEAD to main is refused with the full disk's message, naming no path or code, and the refs stay `refs`. */
  async function assertPushRefusedAsFull(url: string, work: string, refs: string): Promise<void> {
    const refused = await git.fails(['push', url, 'HEAD:refs/heads/main'], { cwd: work });
    assert.match(refused.stderr, NO_SPACE);
    assert.doesNotMatch(refused.stderr, /internal error|ENOSPC|\/data\//);
    assert.equal(await git.ok(['ls-remote', url]), refs);
  }

  /** Pushed packs the server tried on the event loop and then checked on an index thread (its /metrics). */
  async function packChecksOverInlineCap(): Promise<number> {
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /^# TYPE gitfleet_pack_checks_total counter$/m, 'the server counts its pack checks');
    // A series per worker, none until its first such check.
    const series = metrics.matchAll(/^gitfleet_pack_checks_total\{[^}]*on="over_inline_cap"[^}]*\} (\d+)$/gm);
    return [...series].reduce((sum, [, count]) => sum + Number(count), 0);
  }

  async function spoolFiles(): Promise<string[]> {
    return readdir(join(mounted, 'data', 'spool', 'receive')).catch(() => []);
  }

  test('a pack larger than the free space: refused while it is received, nothing changed, nothing left', async () => {
    const { url, work, refs } = await pushedRepository('too-large');
    // Incompressible, so that the pack is as large as the file.
    await git.commitFiles(work, { 'big.bin': randomBytes(FILE_SYSTEM_BYTES + 4 * 1024 * 1024) }, 'big');
    await assertPushRefusedAsFull(url, work, refs);
    assert.deepEqual(await spoolFiles(), []);
    assert.ok(server.alive());
  });

  test('a small pack the blob store has no room for: refused as stored, then accepted once space is freed', async () => {
    const { url, work, refs } = await pushedRepository('small');
    await git.commitFiles(work, { 'data.bin': randomBytes(256 * 1024) }, 'data');
    const free = await fillLeaving(64 * 1024);
    try {
      await assertPushRefusedAsFull(url, work, refs);
    } finally {
      await free();
    }
    await git.ok(['push', url, 'HEAD:refs/heads/main'], { cwd: work });
    assert.equal(await git.revParse(work, 'HEAD'), (await git.ok(['ls-remote', url, 'refs/heads/main'])).split('\t')[0]);
    const copy = await git.clone(url, 'small-copy');
    await git.ok(['fsck', '--strict'], { cwd: copy });
  });

  test('a thin pack whose base the disk has no room for, appended on an index thread: refused as full, then accepted once space is freed', async () => {
    const { url, work, refs } = await pushedRepository('thin');
    // Incompressible: the base appended to the thin pack takes its whole size on disk. Resolving
    // a delta against it exceeds the event loop's work cap, so the pack is checked on a thread.
    const base = randomBytes(4 * 1024 * 1024);
    await git.commitFiles(work, { 'big.bin': base }, 'base');
    await git.ok(['push', url, 'HEAD:refs/heads/main'], { cwd: work });
    const before = await git.ok(['ls-remote', url]);
    assert.notEqual(before, refs);
    await git.commitFiles(work, { 'big.bin': Buffer.concat([base, Buffer.from('one more line\n')]) }, 'append');
    const sentToThreads = await packChecksOverInlineCap();
    const free = await fillLeaving(1024 * 1024);
    try {
      await assertPushRefusedAsFull(url, work, before);
      assert.equal(await packChecksOverInlineCap(), sentToThreads + 1, 'the pack went to an index thread');
      assert.deepEqual(await spoolFiles(), []);
    } finally {
      await free();
    }
    await git.ok(['push', url, 'HEAD:refs/heads/main'], { cwd: work });
    assert.equal(await git.revParse(work, 'HEAD'), (await git.ok(['ls-remote', url, 'refs/heads/main'])).split('\t')[0]);
  });

  test('an LFS upload the disk has no room for: 507 with the reason (not a reset), then stored once space is freed', async () => {
    await server.createRepo('ci', 'lfs-full');
    const content = randomBytes(12 * 1024 * 1024);
    const object = { oid: createHash('sha256').update(content).digest('hex'), size: content.length };
    const batch = await fetch(`${server.url}/ci/lfs-full.git/info/lfs/objects/batch`, {
      method: 'POST',
      headers: adminHeaders({ accept: LFS_JSON, 'content-type': LFS_JSON }),
      body: JSON.stringify({ operation: 'upload', transfers: ['basic'], objects: [object] }),
    });
    assert.equal(batch.status, 200);
    const upload = ((await batch.json()) as { objects: Array<{ actions: { upload: { href: string; header?: Record<string, string> } } }> })
      .objects[0].actions.upload;
    const put = () =>
      fetch(upload.href, { method: 'PUT', headers: { ...upload.header, 'content-type': 'application/octet-stream' }, body: content });
    const free = await fillLeaving(4 * 1024 * 1024);
    try {
      const refused = await put();
      assert.equal(refused.status, 507);
      assert.match(await refused.text(), NO_SPACE);
    } finally {
      await free();
    }
    assert.equal((await put()).status, 200);
  });

  test('the REST API answers 507 Insufficient Storage, and the server works on once space is freed', async () => {
    const free = await fillLeaving(0);
    let response: Response;
    try {
      response = await fetch(`${server.url}/api/v1/repos`, {
        method: 'POST',
        headers: adminHeaders({ 'content-type': 'application/json' }),
        body: JSON.stringify({ owner: 'ci', name: 'while-full' }),
      });
    } finally {
      await free();
    }
    assert.equal(response.status, 507);
    assert.match(((await response.json()) as { message: string }).message, /no storage space left/);
    await server.createRepo('ci', 'after-full');
  });
});
