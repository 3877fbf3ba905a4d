import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { MemoryBlobStore, PlacementBlobStore, S3BlobStore } from '@gitfleet/storage';
import { runCli } from '@gitfleet/test-support/cli';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { adminGit, createRepo, startTestServer } from './helpers.js';

// The server over its distributed backends, driven by the real git: S3 (Ceph radosgw) +
// Redis from scripts/servers/*.sh, and a placement of packs over three stores with R=2.

const run = promisify(execFile);

async function git(cwd: string, ...args: string[]): Promise<string> {
  return (await adminGit(cwd, args)).stdout;
}

/** A local repository with `commits` commits of a few files each (some of them large enough for several cache blocks). */
async function makeSource(directory: string, commits: number): Promise<void> {
  await mkdir(directory, { recursive: true });
  await git(directory, 'init', '-q');
  for (let i = 0; i < commits; i++) await commitFiles(directory, `c${i}`);
}

async function commitFiles(directory: string, label: string): Promise<void> {
  await writeFile(path.join(directory, `${label}.txt`), `${label}\n`.repeat(1000));
  await writeFile(path.join(directory, `${label}.bin`), randomBytes(300_000));
  await git(directory, 'add', '-A');
  await git(directory, 'commit', '-qm', label);
}

/** Clones `remote` into `target` and checks it is complete and has the source's history. */
async function cloneAndCompare(work: string, remote: string, target: string, source: string): Promise<void> {
  await git(work, 'clone', '-q', remote, target);
  await git(target, 'fsck', '--full', '--strict');
  assert.equal((await git(target, 'rev-parse', 'HEAD')).trim(), (await git(source, 'rev-parse', 'HEAD')).trim());
  assert.equal(await git(target, 'log', '--format=%H %s'), await git(source, 'log', '--format=%H %s'));
}

const S3_VARIABLES = [
  'GITFLEET_TEST_S3_ENDPOINT',
  'GITFLEET_TEST_S3_BUCKET',
  'GITFLEET_TEST_S3_ACCESS_KEY',
  'GITFLEET_TEST_S3_SECRET_KEY',
  'GITFLEET_TEST_S3_REGION',
];
const REDIS_VARIABLES = ['GITFLEET_TEST_REDIS_URL'];

describe(
  'server over S3 and Redis',
  { skip: process.env.GITFLEET_SKIP_REMOTE_STORES === '1' ? 'GITFLEET_SKIP_REMOTE_STORES=1' : undefined },
  () => {
    it('serves a push through one server process and a clone through another', async () => {
      const missing = [...S3_VARIABLES, ...REDIS_VARIABLES].filter((name) => !process.env[name]);
      if (missing.length > 0) {
        throw new Error(
          `${missing.join(', ')} not set: start the servers with \`eval "$(scripts/servers/radosgw.sh start)"\` and ` +
            '`eval "$(scripts/servers/redis.sh start)"` (or set GITFLEET_SKIP_REMOTE_STORES=1 to skip these tests explicitly)',
        );
      }
      const env = process.env as Record<string, string>;
      const unique = `dist-${process.pid}-${Date.now().toString(36)}`;
      const s3 = {
        endpoint: env.GITFLEET_TEST_S3_ENDPOINT,
        bucket: env.GITFLEET_TEST_S3_BUCKET,
        region: env.GITFLEET_TEST_S3_REGION,
        prefix: `${unique}/`,
        credentials: { accessKeyId: env.GITFLEET_TEST_S3_ACCESS_KEY, secretAccessKey: env.GITFLEET_TEST_S3_SECRET_KEY },
      };
      const serverEnv = {
        GITFLEET_BLOB_BACKEND: 's3',
        GITFLEET_S3_ENDPOINT: s3.endpoint,
        GITFLEET_S3_BUCKET: s3.bucket,
        GITFLEET_S3_REGION: s3.region,
        GITFLEET_S3_PREFIX: s3.prefix,
        GITFLEET_S3_ACCESS_KEY_ID: s3.credentials.accessKeyId,
        GITFLEET_S3_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
        GITFLEET_KV_BACKEND: 'redis',
        GITFLEET_REDIS_URL: env.GITFLEET_TEST_REDIS_URL,
        GITFLEET_REDIS_NAMESPACE: unique,
      };
      const bucket = new S3BlobStore(s3);
      const first = await startTestServer(serverEnv);
      const second = await startTestServer(serverEnv);
      try {
        assert.equal((await createRepo(first.url, 'alice', 'remote')).status, 201);
        const source = path.join(first.dataDir, 'source');
        await makeSource(source, 3);
        await git(source, 'push', '-q', `${first.url}/alice/remote.git`, 'main');

        // The second process has nothing local: repository, refs and packs all come from Redis and S3.
        await cloneAndCompare(second.dataDir, `${second.url}/alice/remote.git`, path.join(second.dataDir, 'clone'), source);
        const blobs: string[] = [];
        for await (const { key } of bucket.list('repos/')) blobs.push(key);
        // A push this small is received in memory: its pack and idx are one blob.
        assert.ok(
          blobs.some((key) => key.endsWith('.packidx')),
          `packs in the bucket: ${blobs}`,
        );
        assert.deepEqual(
          await readdir(path.join(second.dataDir)).then((names) => names.filter((name) => name === 'objects' || name === 'kv.sqlite')),
          [],
        );

        // And back: a push through the second is seen by a clone through the first.
        await commitFiles(source, 'later');
        await git(source, 'push', '-q', `${second.url}/alice/remote.git`, 'main');
        await cloneAndCompare(first.dataDir, `${first.url}/alice/remote.git`, path.join(first.dataDir, 'clone-after'), source);
      } finally {
        await Promise.allSettled([first.stop(), second.stop()]);
        const keys: string[] = [];
        for await (const { key } of bucket.list('')) keys.push(key);
        await Promise.all(keys.map((key) => bucket.delete(key)));
        await bucket.close();
        await dropRedisNamespace(env.GITFLEET_TEST_REDIS_URL, unique);
      }
    });
  },
);

/** Removes the test's keys from the shared Redis (they all start with the namespace). */
async function dropRedisNamespace(url: string, namespace: string): Promise<void> {
  const { stdout } = await run('redis-cli', ['-u', url, '--scan', '--pattern', `${namespace}:*`]);
  const keys = stdout.split('\n').filter(Boolean);
  for (let i = 0; i < keys.length; i += 500) await run('redis-cli', ['-u', url, 'del', ...keys.slice(i, i + 500)]);
}

describe('server over a placement of three stores with R=2', () => {
  const STORES = ['alpha', 'beta', 'gamma'];

  /** For each blob key, the stores whose directory holds it. */
  /** Where each blob under `folders` is stored: the packs of repositories (repos/) by default, the ref journal (journal/) too on request. */
  async function copies(dataDir: string, folders = ['repos']): Promise<Map<string, string[]>> {
    const found = new Map<string, string[]>();
    for (const store of STORES) {
      const root = path.join(dataDir, 'stores', store);
      const listings = await Promise.all(
        folders.map((folder) => readdir(path.join(root, folder), { recursive: true, withFileTypes: true }).catch(() => [])),
      );
      for (const file of listings.flat()) {
        if (!file.isFile()) continue;
        const key = path.relative(root, path.join(file.parentPath, file.name)).split(path.sep).join('/');
        found.set(key, [...(found.get(key) ?? []), store].sort());
      }
    }
    return found;
  }

  it('keeps serving after a store is lost, and repair restores two copies of every pack', async (t) => {
    const dataDir = tempDir(t, 'placement-test');
    const env = {
      GITFLEET_DATA_DIR: dataDir,
      GITFLEET_BLOB_BACKEND: 'placement',
      GITFLEET_PLACEMENT_STORES: JSON.stringify(STORES.map((name) => ({ name, type: 'fs', path: `stores/${name}` }))),
      GITFLEET_PLACEMENT_REPLICAS: '2',
      // The blobs counted below are the pushes' packs: a compaction would add its own.
      GITFLEET_MAINTENANCE: '0',
    };
    // The same names give the same placement: this tells which stores each key prefers.
    const placement = new PlacementBlobStore({ stores: STORES.map((name) => ({ name, store: new MemoryBlobStore() })), replicas: 2 });
    const preferred = (key: string) => placement.placement(key).slice(0, 2).sort();
    const work = path.join(dataDir, 'work');
    const source = path.join(work, 'source');
    let server = await startTestServer(env);
    try {
      assert.equal((await createRepo(server.url, 'alice', 'spread')).status, 201);
      const remote = () => `${server.url}/alice/spread.git`;
      await makeSource(source, 2);
      await git(source, 'push', '-q', remote(), 'main');
      for (let i = 0; i < 4; i++) {
        await commitFiles(source, `more${i}`);
        await git(source, 'push', '-q', remote(), 'main');
      }
      const before = await copies(dataDir);
      // Pushes this small are received in memory: each pack is one blob with its idx.
      assert.equal(before.size, 5, `5 packs: ${[...before.keys()]}`);
      for (const [key, stores] of before) assert.deepEqual(stores, preferred(key), key);

      // Lose the store holding most copies, under the running server.
      const lost = STORES.map((name) => ({ name, held: [...before.values()].filter((stores) => stores.includes(name)).length })).sort(
        (a, b) => b.held - a.held,
      )[0];
      await rm(path.join(dataDir, 'stores', lost.name), { recursive: true, force: true });
      await commitFiles(source, 'after-loss');
      await git(source, 'push', '-q', remote(), 'main');

      // A fresh process (nothing cached) serves every pack from the copies that are left.
      await server.stop();
      server = await startTestServer(env);
      await cloneAndCompare(work, remote(), path.join(work, 'clone-degraded'), source);
      const degraded = await copies(dataDir);
      for (const [key, stores] of degraded) {
        // Older blobs lost their copy on the lost store; the one pushed since went to the next store instead.
        const expected = before.has(key) ? preferred(key).filter((name) => name !== lost.name) : 2;
        if (typeof expected === 'number')
          assert.equal(stores.length, expected, `${key} was written twice while ${lost.name} was gone: ${stores}`);
        else assert.deepEqual(stores, expected, key);
      }
      assert.equal(degraded.size, 6);

      // Repair restores every blob of the placement: the ref journal's entries as well as the packs.
      const everything = await copies(dataDir, ['repos', 'journal']);
      assert.ok(everything.size > degraded.size, 'the pushes were journaled');
      const repair = await runCli(['repair'], { ...env, LOG_LEVEL: 'silent' });
      assert.equal(repair.code, 0, repair.stderr);
      const lacking = [...everything].filter(([key, stores]) => preferred(key).some((name) => !stores.includes(name))).length;
      assert.ok(lacking > 0);
      assert.match(
        repair.stdout,
        new RegExp(
          `^${everything.size} blobs checked: ${everything.size - lacking} had their copies, ${lacking} repaired \\(${lacking} copies`,
        ),
        repair.stdout,
      );

      const after = await copies(dataDir, ['repos', 'journal']);
      assert.equal(after.size, everything.size);
      for (const [key, stores] of after) {
        for (const name of preferred(key)) assert.ok(stores.includes(name), `${key} is on ${name} again: ${stores}`);
      }
      await cloneAndCompare(work, remote(), path.join(work, 'clone-repaired'), source);
    } finally {
      await server.stop();
    }
  });

  it('repair refuses a blob backend without copies', async (t) => {
    const result = await runCli(['repair'], { GITFLEET_DATA_DIR: tempDir(t, 'placement-test') });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /repair needs GITFLEET_BLOB_BACKEND=placement/);
  });
});
