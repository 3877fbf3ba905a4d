import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile, mkdir, utimes } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FsBlobStore } from '@gitfleet/storage';
import { runBlobStoreConformance } from '@gitfleet/storage/conformance';

async function temporaryDirectory(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'gitfleet-fs-blob-'));
}

runBlobStoreConformance('FsBlobStore', async () => {
  const directory = await temporaryDirectory();
  const store = await FsBlobStore.open(join(directory, 'root'));
  return { store, cleanup: () => rm(directory, { recursive: true, force: true }) };
});

describe('FsBlobStore on disk', () => {
  it('keeps blobs as files named by their key and leaves no temp file behind', async () => {
    const directory = await temporaryDirectory();
    try {
      const root = join(directory, 'root');
      const store = await FsBlobStore.open(root);
      await store.putIfAbsent('repo/packs/pack-1.pack', Buffer.from('pack bytes'));
      await store.putIfAbsent('repo/packs/pack-1.pack', Buffer.from('other bytes'));
      assert.deepEqual(await readdir(join(root, 'repo', 'packs')), ['pack-1.pack']);
      assert.deepEqual(await readdir(join(root, '~tmp')), []);
      const reopened = await FsBlobStore.open(root);
      assert.equal((await reopened.get('repo/packs/pack-1.pack'))?.toString(), 'pack bytes');
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('copies a body with a local path from the file, checking its declared size', async () => {
    const directory = await temporaryDirectory();
    try {
      const source = join(directory, 'spooled.pack');
      await writeFile(source, 'spooled pack bytes');
      const store = await FsBlobStore.open(join(directory, 'root'));
      const unreadable = () => {
        throw new Error('open() must not be called when the file can be copied');
      };
      assert.equal(await store.putIfAbsent('repo/a.pack', { size: 18, open: unreadable, path: source }), true);
      assert.equal((await store.get('repo/a.pack'))?.toString(), 'spooled pack bytes');
      await assert.rejects(store.putIfAbsent('repo/b.pack', { size: 5, open: unreadable, path: source }), /declared size is 5/);
      assert.equal(await store.head('repo/b.pack'), undefined);
      assert.deepEqual(await readdir(join(directory, 'root', '~tmp')), []);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('never lists or reads outside its root, nor its temp files', async () => {
    const directory = await temporaryDirectory();
    try {
      await writeFile(join(directory, 'outside'), 'secret');
      const store = await FsBlobStore.open(join(directory, 'root'));
      await writeFile(join(directory, 'root', '~tmp', 'in-flight.tmp'), 'partial');
      await store.putIfAbsent('inside', Buffer.from('x'));
      const keys: string[] = [];
      for (const prefix of ['', '../', '..', '.']) for await (const info of store.list(prefix)) keys.push(info.key);
      assert.deepEqual(keys, ['inside']);
      await assert.rejects(store.get('../outside'), /invalid blob key/);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('drops temp files a crashed writer left a day ago, and keeps recent ones', async () => {
    const directory = await temporaryDirectory();
    try {
      const root = join(directory, 'root');
      await mkdir(join(root, '~tmp'), { recursive: true });
      await writeFile(join(root, '~tmp', 'old.tmp'), 'left over');
      await writeFile(join(root, '~tmp', 'recent.tmp'), 'another process is writing');
      const twoDaysAgo = new Date(Date.now() - 2 * 24 * 60 * 60 * 1000);
      await utimes(join(root, '~tmp', 'old.tmp'), twoDaysAgo, twoDaysAgo);
      await FsBlobStore.open(root);
      assert.deepEqual(await readdir(join(root, '~tmp')), ['recent.tmp']);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it("drops at once the temp files of a writer of this host that is gone (a killed server's), and keeps a live one's", async () => {
    const directory = await temporaryDirectory();
    try {
      const root = join(directory, 'root');
      await mkdir(join(root, '~tmp'), { recursive: true });
      const gone = spawnSync(process.execPath, ['-e', '']).pid;
      const host = hostname().replace(/[^A-Za-z0-9.-]/g, '_');
      const named = (writerHost: string, pid: number) => `${writerHost}~${pid}~0123456789abcdef01234567.tmp`;
      await writeFile(join(root, '~tmp', named(host, gone)), 'a killed writer left this');
      await writeFile(join(root, '~tmp', named(host, process.pid)), 'this process is writing');
      await writeFile(join(root, '~tmp', named('another-host', gone)), 'a process this host cannot see is writing');
      await FsBlobStore.open(root);
      assert.deepEqual((await readdir(join(root, '~tmp'))).sort(), [named('another-host', gone), named(host, process.pid)].sort());
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('lets exactly one of two store instances on one root win a race', async () => {
    const directory = await temporaryDirectory();
    try {
      const root = join(directory, 'root');
      const [first, second] = await Promise.all([FsBlobStore.open(root), FsBlobStore.open(root)]);
      for (let round = 0; round < 20; round++) {
        const key = `race/${round}/pack`;
        const results = await Promise.all([first.putIfAbsent(key, Buffer.from('first')), second.putIfAbsent(key, Buffer.from('second'))]);
        assert.equal(results.filter(Boolean).length, 1, `round ${round}`);
        assert.equal((await first.get(key))?.toString(), results[0] ? 'first' : 'second');
      }
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
