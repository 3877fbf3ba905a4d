/**
 * Storage quotas per owner with the real clients: an administrator sets them through the API,
 * `git push` and `git lfs push` past them are refused with the quota's reason before anything is
 * stored, pushes within them pass, and the usage the API shows is the one `gitfleet quota show`
 * measures on the stores. Runs on the backend GITFLEET_E2E_BACKEND selects.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe } from 'node:test';
import { runCli } from '@gitfleet/test-support/cli';
import { GitClient } from '@gitfleet/test-support/git-client';
import { adminHeaders, serverTest, startServer, testPassword, type ServerProcess } from '@gitfleet/test-support/server';

const OWNER = 'quinn';
const STRANGER = 'sam';
const REPO = 'data';
const LFS_JSON = 'application/vnd.git-lfs+json';

interface Usage {
  packs_bytes: number;
  lfs_bytes: number;
  total_bytes: number;
}

/** A limit of null is no limit. */
type Quota = { [Kind in keyof Usage]: number | null };

interface OwnerStorage {
  owner: string;
  usage: Usage;
  quota: Quota;
}

function basic(user: string): string {
  return `Basic ${Buffer.from(`${user}:${testPassword(user)}`).toString('base64')}`;
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

describe('storage quotas', () => {
  let server: ServerProcess;
  let client: GitClient;
  let work: string;
  const test = serverTest(() => server);
  const pushUrl = () => {
    const url = new URL(`${server.url}/${OWNER}/${REPO}.git`);
    url.username = OWNER;
    url.password = testPassword(OWNER);
    return url.toString();
  };

  async function api(path: string, init: { method?: string; authorization?: string; body?: unknown } = {}) {
    const headers: Record<string, string> = init.authorization ? { authorization: init.authorization } : {};
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${server.url}/api/v1${path}`, {
      method: init.method ?? 'GET',
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
  }

  async function setQuota(quota: Partial<Quota>): Promise<void> {
    const answer = await api(`/admin/quotas/${OWNER}`, { method: 'PUT', authorization: adminHeaders().authorization, body: quota });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
  }

  /** What the stores hold, measured by the CLI in a process of its own (no server cache between). */
  async function storageByCli(): Promise<OwnerStorage> {
    const run = await runCli(['quota', 'show', OWNER, '--json'], server.cliEnv);
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout) as OwnerStorage;
  }

  async function remoteRefs(): Promise<string> {
    return client.ok(['ls-remote', pushUrl()], { cwd: work });
  }

  before(async () => {
    server = await startServer();
    await server.ensureUser(STRANGER);
    await server.createRepository(OWNER, REPO);
    // Credentials are in the URL: git-lfs would send an http.extraHeader to the object store too.
    client = await GitClient.create(2, { authorization: null });
    work = await client.init('work');
    await client.ok(['lfs', 'install', '--local'], { cwd: work });
    await client.ok(['lfs', 'track', '*.bin'], { cwd: work });
    await client.commitFiles(work, { 'README.md': 'data\n' }, 'first');
    await client.ok(['push', '-q', pushUrl(), 'HEAD:refs/heads/main'], { cwd: work });
  });

  after(async () => {
    await client?.cleanup();
    await server?.stop();
  });

  test('only an administrator sets quotas; only the owner and administrators see its usage', async () => {
    const body = { packs_bytes: 1 };
    assert.equal((await api(`/admin/quotas/${OWNER}`, { method: 'PUT', authorization: basic(OWNER), body })).status, 403);
    assert.equal((await api(`/admin/quotas/${OWNER}`, { authorization: basic(OWNER) })).status, 403);
    assert.equal((await api(`/users/${OWNER}/storage`, { authorization: basic(STRANGER) })).status, 404);
    assert.equal((await api(`/users/${OWNER}/storage`)).status, 404);
    assert.equal(
      (await api('/admin/quotas/nobody-here', { method: 'PUT', authorization: adminHeaders().authorization, body })).status,
      404,
    );
    const refused = await api(`/admin/quotas/${OWNER}`, {
      method: 'PUT',
      authorization: adminHeaders().authorization,
      body: { lfs_bytes: -1 },
    });
    assert.equal(refused.status, 422);
    const misspelt = await api(`/admin/quotas/${OWNER}`, {
      method: 'PUT',
      authorization: adminHeaders().authorization,
      body: { packs: 1 },
    });
    assert.equal(misspelt.status, 422);

    const own = await api(`/users/${OWNER}/storage`, { authorization: basic(OWNER) });
    assert.equal(own.status, 200, JSON.stringify(own.body));
    assert.deepEqual(own.body.quota, { packs_bytes: null, lfs_bytes: null, total_bytes: null }, 'the refused requests set nothing');
    assert.ok(own.body.usage.packs_bytes > 0, 'the first push is counted');
    assert.equal(own.body.usage.total_bytes, own.body.usage.packs_bytes + own.body.usage.lfs_bytes);
  });

  test('a push past the packs quota is refused with its reason and stores nothing; one within it passes', async () => {
    const before = await storageByCli();
    await setQuota({ packs_bytes: before.usage.packs_bytes + 8 * 1024 });
    const refsBefore = await remoteRefs();

    await client.commitFiles(work, { 'big.dat': randomBytes(200 * 1024) }, 'too big');
    const refused = await client.fails(['push', pushUrl(), 'HEAD:refs/heads/main'], { cwd: work });
    assert.match(refused.stderr, /quinn's git data quota is [\d.]+ KiB and [\d.]+ (B|KiB) of it is used/);
    assert.match(refused.stderr, /nothing was stored/);
    assert.equal(await remoteRefs(), refsBefore);
    const afterRefusal = await storageByCli();
    assert.deepEqual(afterRefusal.usage, before.usage);
    const shown = await api(`/users/${OWNER}/storage`, { authorization: basic(OWNER) });
    assert.deepEqual(shown.body, afterRefusal, 'the API shows what the CLI measures');

    await client.ok(['reset', '-q', '--hard', 'HEAD~1'], { cwd: work });
    const small = await client.commitFiles(work, { 'notes.txt': 'a small change\n' }, 'small');
    await client.ok(['push', '-q', pushUrl(), 'HEAD:refs/heads/main'], { cwd: work });
    assert.match(await remoteRefs(), new RegExp(`^${small}\\trefs/heads/main$`, 'm'));
    assert.ok((await storageByCli()).usage.packs_bytes > before.usage.packs_bytes);
  });

  test('git lfs push of an object past the LFS quota is refused with the 507 reason and stores nothing', async () => {
    await setQuota({ lfs_bytes: 100 * 1024 });
    const before = await storageByCli();
    const refsBefore = await remoteRefs();

    const big = randomBytes(300 * 1024);
    await client.commitFiles(work, { 'big.bin': big }, 'big LFS object');
    const refused = await client.fails(['push', pushUrl(), 'HEAD:refs/heads/main'], { cwd: work });
    assert.match(refused.stderr, /quinn's Git LFS quota is 100\.0 KiB and 0 B of it is used/);
    assert.equal(await remoteRefs(), refsBefore, 'git pushed nothing once git-lfs failed');
    assert.deepEqual((await storageByCli()).usage, before.usage);
    const download = await fetch(`${server.url}/${OWNER}/${REPO}.git/info/lfs/objects/batch`, {
      method: 'POST',
      headers: { accept: LFS_JSON, 'content-type': LFS_JSON, authorization: basic(OWNER) },
      body: JSON.stringify({ operation: 'download', objects: [{ oid: sha256(big), size: big.length }] }),
    });
    assert.equal(((await download.json()) as { objects: Array<{ error?: { code: number } }> }).objects[0].error?.code, 404);

    await client.ok(['reset', '-q', '--hard', 'HEAD~1'], { cwd: work });
    const fits = randomBytes(60 * 1024);
    await client.commitFiles(work, { 'fits.bin': fits }, 'an LFS object within the quota');
    await client.ok(['push', '-q', pushUrl(), 'HEAD:refs/heads/main'], { cwd: work });
    assert.equal((await storageByCli()).usage.lfs_bytes, fits.length);
  });

  test('the total quota counts packs and LFS objects together', async () => {
    const { usage } = await storageByCli();
    await setQuota({ total_bytes: usage.total_bytes + 20 * 1024 });

    const upload = (bytes: Buffer) =>
      fetch(`${server.url}/${OWNER}/${REPO}.git/info/lfs/objects/batch`, {
        method: 'POST',
        headers: { accept: LFS_JSON, 'content-type': LFS_JSON, authorization: basic(OWNER) },
        body: JSON.stringify({ operation: 'upload', objects: [{ oid: sha256(bytes), size: bytes.length }] }),
      }).then(
        async (response) =>
          ((await response.json()) as { objects: Array<{ error?: { code: number; message: string }; actions?: object }> }).objects[0],
      );
    const tooBig = await upload(randomBytes(30 * 1024));
    assert.equal(tooBig.error?.code, 507);
    assert.match(tooBig.error.message, /quinn's storage quota is/);
    assert.ok((await upload(randomBytes(10 * 1024))).actions, 'an object within the total room may be uploaded');

    const refsBefore = await remoteRefs();
    await client.commitFiles(work, { 'big.dat': randomBytes(100 * 1024) }, 'past the total');
    const refused = await client.fails(['push', pushUrl(), 'HEAD:refs/heads/main'], { cwd: work });
    assert.match(refused.stderr, /quinn's storage quota is/);
    assert.equal(await remoteRefs(), refsBefore);
  });

  test('gitfleet quota set changes the limits the API shows; quota show prints them for people', async () => {
    const set = await runCli(['quota', 'set', OWNER, '--packs', '5MiB', '--total', 'none'], server.cliEnv);
    assert.equal(set.code, 0, set.stderr);
    const stored = await api(`/admin/quotas/${OWNER}`, { authorization: adminHeaders().authorization });
    assert.deepEqual(stored.body, { owner: OWNER, packs_bytes: 5 * 1024 * 1024, lfs_bytes: null, total_bytes: null });
    assert.deepEqual(JSON.parse(set.stdout), stored.body);

    const shown = await runCli(['quota', 'show', OWNER], server.cliEnv);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^git data \(packs\)\s+[\d.]+ (B|KiB)\s+5\.0 MiB \(\d+% used\)$/m);
    assert.match(shown.stdout, /^Git LFS\s+60\.0 KiB\s+none$/m);
    assert.match(shown.stdout, /^total\s+[\d.]+ KiB\s+none$/m);

    const bad = await runCli(['quota', 'set', OWNER, '--lfs', 'lots'], server.cliEnv);
    assert.equal(bad.code, 2);
    assert.equal((await runCli(['quota', 'show', 'nobody-here'], server.cliEnv)).code, 3);
  });

  test("the owner's page shows its storage to the owner only; the repository's page and API its LFS objects", async () => {
    const page = async (path: string, authorization?: string) => {
      const response = await fetch(`${server.url}${path}`, { headers: authorization ? { authorization } : {} });
      assert.equal(response.status, 200);
      return response.text();
    };
    const own = await page(`/${OWNER}`, basic(OWNER));
    assert.match(own, /<div class="box" id="owner-storage">/);
    assert.match(own, /<li data-storage="lfsBytes"><span class="grow">Git LFS<\/span><span>60\.0 KiB<\/span><\/li>/);
    assert.match(own, /<li data-storage="packsBytes">.*? of 5\.0 MiB<\/span><meter min="0" max="5242880"/);
    assert.doesNotMatch(await page(`/${OWNER}`, basic(STRANGER)), /owner-storage/);
    assert.doesNotMatch(await page(`/${OWNER}`), /owner-storage/);

    const home = await page(`/${OWNER}/${REPO}`);
    assert.match(home, /id="lfs-usage" data-objects="1" data-bytes="61440"/);
    assert.match(home, /1 object, 60\.0 KiB/);
    const repository = await api(`/repos/${OWNER}/${REPO}`, { authorization: basic(OWNER) });
    assert.equal(repository.body.lfs_size, 61440);
  });
});
