// A wiped KV store rebuilt from the blob store alone: pushes (several per repository, a force
// push, a branch deletion, a tag), a rename, a deletion, a default-branch change, a full repack,
// then the server stops, its KV store is wiped (the SQLite file, or the test's Redis namespace),
// `gitfleet journal recover` rebuilds it, and every repository clones identical to before; the
// accounts come back from a snapshot (`journal snapshot`, `journal restore-snapshot`); a Git LFS
// object's record and the LFS lock that stands come back, the lock released does not.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminHeaders, TEST_ADMIN } from '@gitfleet/test-support/admin';
import { runCli } from '@gitfleet/test-support/cli';
import { GitClient } from '@gitfleet/test-support/git-client';
import { serverTest, startServer, type ServerProcess } from '@gitfleet/test-support/server';
import { deleteRedisNamespace, redisUrl, selectedStorage, type StorageBackend } from '@gitfleet/test-support/server-storage';
import { assertFsckClean, localRefs, mapToObject, remoteRefs } from './helpers/compare.js';

let storage: StorageBackend;
let dataDir: string;
let server: ServerProcess | undefined;
const it = serverTest(() => server);

before(async () => {
  storage = await selectedStorage();
  dataDir = await mkdtemp(join(tmpdir(), 'gitfleet-recover-'));
});
after(async () => {
  await server?.stop();
  await rm(dataDir, { recursive: true, force: true });
  await storage?.dispose();
});

async function start(): Promise<ServerProcess> {
  server = await startServer({}, { storage, dataDir });
  return server;
}

/** Wipes what the server keeps in its KV store, and only that: the SQLite database, or the server's own Redis namespace. */
async function wipeKv(): Promise<void> {
  if (storage.kind === 'embedded') {
    for (const suffix of ['', '-wal', '-shm']) await rm(join(dataDir, `kv.sqlite${suffix}`), { force: true });
  } else {
    await deleteRedisNamespace(redisUrl(), false, storage.env.GITFLEET_REDIS_NAMESPACE);
  }
}

async function api(method: string, path: string, body?: unknown): Promise<void> {
  const response = await fetch(`${server!.url}/api/v1${path}`, {
    method,
    headers: adminHeaders({ 'content-type': 'application/json' }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(response.ok, `${method} ${path}: HTTP ${response.status} ${await response.text()}`);
}

const LFS_JSON = 'application/vnd.git-lfs+json';

/** A request of the Git LFS API of TEST_ADMIN's repository `repo`, e.g. `lfs(alpha, 'locks', {path})`; its JSON answer. */
async function lfs(repo: string, path: string, body?: unknown): Promise<any> {
  const response = await fetch(`${server!.url}/${TEST_ADMIN}/${repo}.git/info/lfs/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: adminHeaders({ accept: LFS_JSON, 'content-type': LFS_JSON }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  assert.ok(response.ok, `LFS ${path}: HTTP ${response.status} ${text}`);
  return JSON.parse(text);
}

/** Uploads `bytes` as git-lfs does: the batch API, then the upload and verify actions it answers with. */
async function uploadLfsObject(repo: string, bytes: Buffer): Promise<void> {
  const object = { oid: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
  const { objects } = await lfs(repo, 'objects/batch', { operation: 'upload', objects: [object] });
  const { upload, verify } = objects[0].actions as Record<string, { href: string; header?: Record<string, string> }>;
  const put = await fetch(upload.href, { method: 'PUT', headers: upload.header, body: new Uint8Array(bytes) });
  assert.ok(put.ok, `LFS upload: HTTP ${put.status} ${await put.text()}`);
  if (verify) {
    const headers = { ...verify.header, 'content-type': LFS_JSON };
    const verified = await fetch(verify.href, { method: 'POST', headers, body: JSON.stringify(object) });
    assert.ok(verified.ok, `LFS verify: HTTP ${verified.status} ${await verified.text()}`);
  }
}

async function lfsSize(repo: string): Promise<number> {
  const response = await fetch(`${server!.url}/api/v1/repos/${TEST_ADMIN}/${repo}`, { headers: adminHeaders() });
  assert.ok(response.ok, `GET repository ${repo}: HTTP ${response.status}`);
  return ((await response.json()) as { lfs_size: number }).lfs_size;
}

/** What a client sees of a repository: every advertised ref, HEAD's target, and a mirror clone's refs (after fsck). */
async function observe(git: GitClient, url: string): Promise<unknown> {
  const symref = await git.ok(['ls-remote', '--symref', url, 'HEAD']);
  const mirror = await git.clone(url, 'mirror', ['--mirror']);
  await assertFsckClean(git, mirror);
  return {
    advertised: mapToObject(await remoteRefs(git, url)),
    head: symref.split('\n')[0],
    mirror: mapToObject(await localRefs(git, mirror)),
  };
}

describe('recovery of a wiped KV store from the journal', () => {
  it(
    'every repository clones identical after gitfleet journal recover',
    async () => {
      const git = await GitClient.create(2);
      try {
        await start();
        const names = ['alpha', 'beta', 'gamma', 'doomed'];
        const work = new Map<string, string>();
        for (const name of names) {
          const url = await server!.createRepo(TEST_ADMIN, name);
          const dir = await git.init(name);
          await git.ok(['remote', 'add', 'origin', url], { cwd: dir });
          for (let i = 1; i <= 3; i++) {
            await git.commitFiles(dir, { [`file-${i}.txt`]: `${name} ${i}\n` }, `${name} commit ${i}`);
            await git.ok(['push', '-q', 'origin', 'main'], { cwd: dir });
          }
          await git.ok(['branch', 'topic'], { cwd: dir });
          await git.ok(['tag', '-a', '-m', 'release', 'v1'], { cwd: dir });
          await git.ok(['push', '-q', 'origin', 'topic', 'v1'], { cwd: dir });
          work.set(name, dir);
        }
        // A checkpoint in the middle: recovery starts from it and replays what follows.
        const checkpoint = await runCli(['journal', 'checkpoint'], server!.cliEnv);
        assert.equal(checkpoint.code, 0, checkpoint.stderr);

        const alpha = work.get('alpha')!;
        await git.ok(['commit', '-q', '--amend', '-m', 'rewritten'], { cwd: alpha });
        await git.ok(['push', '-q', '--force', 'origin', 'main'], { cwd: alpha });
        await git.ok(['push', '-q', 'origin', '--delete', 'topic'], { cwd: alpha });
        const beta = work.get('beta')!;
        await git.commitFiles(beta, { 'topic.txt': 'topic\n' }, 'on topic');
        await git.ok(['push', '-q', 'origin', 'HEAD:refs/heads/topic'], { cwd: beta });
        await api('PATCH', `/repos/${TEST_ADMIN}/beta`, { default_branch: 'topic' });
        await api('PATCH', `/repos/${TEST_ADMIN}/gamma`, { name: 'gamma-renamed' });
        await git.commitFiles(work.get('gamma')!, { 'after-rename.txt': 'x\n' }, 'after the rename');
        await git.ok(['push', '-q', `${server!.url}/${TEST_ADMIN}/gamma-renamed.git`, 'main'], { cwd: work.get('gamma')! });
        await api('DELETE', `/repos/${TEST_ADMIN}/doomed`);
        await uploadLfsObject('alpha', randomBytes(3000));
        await lfs('alpha', 'locks', { path: 'assets/hero.psd' });
        const released = await lfs('alpha', 'locks', { path: 'assets/villain.psd' });
        await lfs('alpha', `locks/${released.lock.id}/unlock`, {});
        const locksBefore = await lfs('alpha', 'locks');
        assert.equal(locksBefore.locks.length, 1);
        assert.equal(await lfsSize('alpha'), 3000);
        // A full repack retires the packs of the pushes: recovery must rebuild a valid pack list all the same.
        const repack = await runCli(['maintenance', 'run', '--full', `${TEST_ADMIN}/beta`], server!.cliEnv);
        assert.equal(repack.code, 0, repack.stderr);

        // An account with a password and a token, in a snapshot of the accounts taken before the loss.
        const user = await runCli(
          ['user', 'create', 'dana', '--email', 'dana@example.test', '--password-stdin'],
          server!.cliEnv,
          'dana-password-1\n',
        );
        assert.equal(user.code, 0, user.stderr);
        const token = await runCli(['token', 'create', 'dana', '--name', 'laptop', '--scopes', 'read:user'], server!.cliEnv);
        assert.equal(token.code, 0, token.stderr);
        const snapshot = await runCli(['journal', 'snapshot'], server!.cliEnv);
        assert.equal(snapshot.code, 0, snapshot.stderr);

        const live = ['alpha', 'beta', 'gamma-renamed'];
        const url = (name: string) => `${server!.url}/${TEST_ADMIN}/${name}.git`;
        const before = new Map<string, unknown>();
        for (const name of live) before.set(name, await observe(git, url(name)));

        await server!.kill('SIGTERM');
        await wipeKv();
        const recovered = await runCli(['journal', 'recover'], server!.cliEnv);
        assert.equal(recovered.code, 0, recovered.stderr);
        assert.match(recovered.stdout, /recovered 3 repositories: .* 1 LFS objects \(3000 bytes\), 1 LFS locks/);
        assert.match(recovered.stderr, /recover: 3\/3 repositories/);
        const again = await runCli(['journal', 'recover'], server!.cliEnv);
        assert.equal(again.code, 4, `a second recovery into the recovered store must be refused:\n${again.stderr}`);
        assert.match(again.stderr, /not empty/);

        const accounts = await runCli(['journal', 'restore-snapshot'], server!.cliEnv);
        assert.equal(accounts.code, 0, accounts.stderr);

        await start();
        const signedIn = await fetch(`${server!.url}/api/v1/user`, { headers: { authorization: `Bearer ${token.stdout.trim()}` } });
        assert.equal(signedIn.status, 200, 'the token made before the loss signs in');
        assert.equal(((await signedIn.json()) as { login: string }).login, 'dana');
        const withPassword = await fetch(`${server!.url}/api/v1/user`, {
          headers: { authorization: `Basic ${Buffer.from('dana:dana-password-1').toString('base64')}` },
        });
        assert.equal(withPassword.status, 200, 'the password set before the loss signs in');
        for (const name of live) assert.deepEqual(await observe(git, url(name)), before.get(name), `${name} differs after recovery`);
        assert.deepEqual(await lfs('alpha', 'locks'), locksBefore, 'the LFS lock that stood, and only it, is back');
        assert.equal(await lfsSize('alpha'), 3000, "the LFS object's record is back");
        assert.notEqual((await git.run(['ls-remote', url('doomed')])).code, 0, 'the deleted repository stays deleted');
        assert.notEqual((await git.run(['ls-remote', url('gamma')])).code, 0, 'the old name of the renamed repository stays free');

        // The journal goes on where it stopped: a push after recovery is accepted and journaled.
        await git.commitFiles(alpha, { 'after-recovery.txt': 'y\n' }, 'after recovery');
        await git.ok(['push', '-q', url('alpha'), 'main'], { cwd: alpha });
        assert.equal((await remoteRefs(git, url('alpha'))).get('refs/heads/main'), await git.revParse(alpha, 'HEAD'));
      } finally {
        await git.cleanup();
      }
    },
    { timeout: 300_000 },
  );
});
