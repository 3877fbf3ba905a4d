import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ZERO_OID } from '@gitfleet/git-format';
import { hasBlobAges } from '@gitfleet/storage';
import { gitText } from '@gitfleet/test-support/git';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import {
  ABANDONED_UPLOAD_MS,
  LfsObjectRecords,
  MaintenanceLease,
  Repository,
  collectLfsObjects,
  lfsBlobKey,
  lfsUploadsBlobPrefix,
  maintainRepository,
  type LfsCollectReport,
} from '../src/index.js';
import { lfsCollectingKey, lfsUnreferencedKey, repositoryScope } from '../src/keys.js';
import { GitPackWriter, maintenanceBackends, openRepository, packRange, push, testClock } from './maintenance-fixtures.js';

const GRACE_MS = 60_000;
const LEASE_MS = 300_000;
const MAIN = 'refs/heads/main';
const SIDE = 'refs/heads/side';
const workDir = tempDir({ after }, 'maintenance-lfs');

/** An LFS object: its content, SHA-256 and the pointer file git stores for it. */
function lfsObject(content: string): { content: Buffer; oid: string; pointer: string } {
  const bytes = Buffer.from(content);
  const oid = createHash('sha256').update(bytes).digest('hex');
  return { content: bytes, oid, pointer: `version https://git-lfs.github.com/spec/v1\noid sha256:${oid}\nsize ${bytes.length}\n` };
}

const [a, b, c, d, e] = ['alpha', 'bravo', 'charlie', 'delta', 'echo'].map((name) => lfsObject(`${name} `.repeat(300)));

/** A commit of `files` at the root of its tree, written into `source` with plumbing. */
function commit(source: string, files: Record<string, string>, parent?: string): string {
  const entries = Object.entries(files)
    .sort(([x], [y]) => (x < y ? -1 : 1))
    .map(([name, content]) => `100644 blob ${gitText(source, ['hash-object', '-w', '--stdin'], content)}\t${name}\n`);
  const tree = gitText(source, ['mktree'], entries.join(''));
  return gitText(source, ['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-m', `commit of ${Object.keys(files).join(' ')}`]);
}

let packs = 0;
/** Pushes `newOid` (its objects not in `oldOid`) to `name`, as a force push when it does not descend from `oldOid`; deletes on ZERO_OID. */
async function pushCommit(repo: Repository, source: string, name: string, oldOid: string, newOid: string): Promise<void> {
  if (newOid === ZERO_OID) {
    assert.deepEqual(await repo.refs.update([{ name, oldOid, newOid }], { atomic: true, message: 'push' }), []);
    return;
  }
  const pack = packRange(source, path.join(workDir, `pack-${packs++}`), oldOid === ZERO_OID ? [newOid] : [newOid, `^${oldOid}`]);
  await push(repo, pack, { name, oldOid, newOid });
}

/** Stores and records an object, as the LFS upload path does. */
async function upload(repo: Repository, object: { content: Buffer; oid: string }): Promise<void> {
  await repo.stores.blobs.putIfAbsent(lfsBlobKey(repo.info.id, object.oid), object.content);
  await new LfsObjectRecords(repo.stores.kv).recordStored(repo.info.id, object.oid, object.content.length);
}

for (const backend of maintenanceBackends) {
  describe(`LFS object collection over ${backend.name}`, () => {
    async function setUp(t: { after(fn: () => unknown): void }) {
      const stores = await backend.open(t);
      // An id of its own: process-wide caches (ref listings, parsed commits) are kept by repository id.
      const repo = new Repository({ ...openRepository(stores).info, id: randomBytes(16).toString('hex') }, stores);
      const scope = repositoryScope(repo.info.id);
      const clock = testClock();
      const source = tempDir(t, 'source');
      gitText(source, ['init', '--bare', '-q']);
      const collect = async (): Promise<LfsCollectReport> => {
        const lease = await MaintenanceLease.acquire(stores.kv, scope, 'test', LEASE_MS, clock.now);
        assert.ok(lease, 'the lease is free');
        try {
          return await collectLfsObjects(repo, lease, { graceMs: GRACE_MS, now: clock.now });
        } finally {
          await lease.release();
        }
      };
      const stored = async (oid: string) => ({
        blob: (await stores.blobs.head(lfsBlobKey(repo.info.id, oid))) !== undefined,
        recorded: (await new LfsObjectRecords(stores.kv).list(repo.info.id)).some((object) => object.oid === oid),
        sighted: (await stores.kv.get(scope, lfsUnreferencedKey(oid))) !== undefined,
      });
      return { stores, repo, scope, clock, source, collect, stored };
    }

    test('an object a force push left unreferenced is sighted, kept within the grace period and deleted after it', async (t) => {
      const { stores, repo, clock, source, collect, stored } = await setUp(t);
      for (const object of [a, b, c, d]) await upload(repo, object);
      const first = commit(source, { 'a.bin': a.pointer, 'b.bin': b.pointer, 'README.md': 'not a pointer\n'.repeat(200) });
      const side = commit(source, { 'c.bin': c.pointer });
      await pushCommit(repo, source, MAIN, ZERO_OID, first);
      await pushCommit(repo, source, SIDE, ZERO_OID, side);

      const initial = await collect();
      assert.deepEqual(initial.sighted, [d.oid], 'only the object no pointer ever named');
      assert.equal(initial.walked, true);
      assert.equal(initial.blobsRead, 3, 'the three pointers; the README is over the pointer limit and is not read');

      // Main force-pushed to a history without b.bin.
      const rewritten = commit(source, { 'a.bin': a.pointer });
      await pushCommit(repo, source, MAIN, first, rewritten);
      clock.advance(GRACE_MS / 2);
      const afterForcePush = await collect();
      assert.deepEqual(afterForcePush.sighted, [b.oid]);
      assert.deepEqual(afterForcePush.collected, [], 'd is within its grace period yet');

      clock.advance(GRACE_MS / 2 + 1);
      const dueForD = await collect();
      assert.deepEqual(dueForD.collected, [d.oid]);
      assert.deepEqual(await stored(d.oid), { blob: false, recorded: false, sighted: false });
      assert.deepEqual(await stored(b.oid), { blob: true, recorded: true, sighted: true }, 'b is within its grace period');

      clock.advance(GRACE_MS / 2);
      assert.deepEqual((await collect()).collected, [b.oid]);
      assert.deepEqual(await stored(b.oid), { blob: false, recorded: false, sighted: false });
      for (const kept of [a, c]) assert.deepEqual(await stored(kept.oid), { blob: true, recorded: true, sighted: false });
      const bytes = await new LfsObjectRecords(stores.kv).repositoryBytes(repo.info.id);
      assert.equal(bytes, a.content.length + c.content.length);
    });

    test('an object referenced again loses its sighting, and its grace period starts over when unreferenced again', async (t) => {
      const { repo, clock, source, collect, stored } = await setUp(t);
      await upload(repo, e);
      const without = commit(source, { 'other.txt': 'plain\n' });
      await pushCommit(repo, source, MAIN, ZERO_OID, without);
      assert.deepEqual((await collect()).sighted, [e.oid]);

      clock.advance(GRACE_MS / 2);
      const restoring = commit(source, { 'e.bin': e.pointer }, without);
      await pushCommit(repo, source, SIDE, ZERO_OID, restoring);
      assert.deepEqual((await collect()).rereferenced, [e.oid]);
      assert.deepEqual(await stored(e.oid), { blob: true, recorded: true, sighted: false });

      await pushCommit(repo, source, SIDE, restoring, ZERO_OID);
      clock.advance(GRACE_MS);
      const again = await collect();
      assert.deepEqual(again.sighted, [e.oid], 'sighted anew, not collected on the old sighting');
      assert.deepEqual(again.collected, []);
    });

    test('an upload told "already stored" clears the sighting; while a deletion is underway it is refused', async (t) => {
      const { stores, repo, scope, clock, source, collect, stored } = await setUp(t);
      const records = new LfsObjectRecords(stores.kv);
      await upload(repo, a);
      await pushCommit(repo, source, MAIN, ZERO_OID, commit(source, { 'x.txt': 'x\n' }));
      assert.deepEqual((await collect()).sighted, [a.oid]);

      clock.advance(GRACE_MS / 2);
      assert.equal(await records.keepForUpload(repo.info.id, a.oid), true);
      assert.equal((await stored(a.oid)).sighted, false);
      clock.advance(GRACE_MS);
      const run = await collect();
      assert.deepEqual(run.collected, [], 'the client relying on the stored object keeps it');
      assert.deepEqual(run.sighted, [a.oid]);

      await stores.kv.compareAndSwap(
        scope,
        [{ key: lfsCollectingKey(a.oid), expect: null, value: new Date(clock.now()).toISOString() }],
        'all',
      );
      assert.equal(await records.keepForUpload(repo.info.id, a.oid), false);
    });

    test('a push that lands between the walk and the deletion keeps the object, and its sighting', async (t) => {
      const { stores, repo, clock, source, collect, stored } = await setUp(t);
      await upload(repo, e);
      const without = commit(source, { 'x.txt': 'x\n' });
      await pushCommit(repo, source, MAIN, ZERO_OID, without);
      assert.deepEqual((await collect()).sighted, [e.oid]);
      clock.advance(GRACE_MS + 1);

      // The run lists the refs once for its walk and once more right before deleting: the push comes in between.
      const list = repo.refs.list.bind(repo.refs);
      let listings = 0;
      repo.refs.list = async (prefix?: string) => {
        if (++listings === 2) await pushCommit(repo, source, MAIN, without, commit(source, { 'e.bin': e.pointer }, without));
        return list(prefix);
      };
      const run = await collect();
      assert.equal(listings, 2);
      assert.deepEqual(run.collected, []);
      assert.deepEqual(await stored(e.oid), { blob: true, recorded: true, sighted: true });
      assert.equal(await stores.kv.get(repositoryScope(repo.info.id), lfsCollectingKey(e.oid)), undefined);

      repo.refs.list = list;
      assert.deepEqual((await collect()).rereferenced, [e.oid], 'the next run finds the pointer');
    });

    test('a deletion a run left unfinished is given up and the grace period starts over', async (t) => {
      const { stores, repo, scope, clock, source, collect, stored } = await setUp(t);
      await upload(repo, a);
      await pushCommit(repo, source, MAIN, ZERO_OID, commit(source, { 'x.txt': 'x\n' }));
      await stores.kv.compareAndSwap(
        scope,
        [{ key: lfsCollectingKey(a.oid), expect: null, value: new Date(clock.now()).toISOString() }],
        'all',
      );
      clock.advance(GRACE_MS * 2);
      const run = await collect();
      assert.deepEqual(run.collected, []);
      assert.equal(await stores.kv.get(scope, lfsCollectingKey(a.oid)), undefined);
      assert.deepEqual(await stored(a.oid), { blob: true, recorded: true, sighted: true });
    });

    test('maintenance of a repository without LFS objects walks nothing; with them it reports the collection', async (t) => {
      const { repo, clock, source } = await setUp(t);
      const tip = commit(source, { 'a.bin': a.pointer });
      await pushCommit(repo, source, MAIN, ZERO_OID, tip);
      const options = {
        holder: 'test',
        graceSeconds: GRACE_MS / 1000,
        mode: 'compact' as const,
        tmpDir: tempDir(t, 'maintenance'),
        writer: new GitPackWriter(source),
        now: clock.now,
      };
      const withoutLfs = await maintainRepository(repo, options);
      assert.equal(withoutLfs.lfs.walked, false);
      assert.equal(withoutLfs.lfs.blobsRead, 0);

      for (const object of [a, b]) await upload(repo, object);
      const withLfs = await maintainRepository(repo, options);
      assert.equal(withLfs.lfs.recorded, 2);
      assert.equal(withLfs.lfs.walked, true);
      assert.equal(withLfs.lfs.blobsRead, 1, 'the pointer');
      assert.deepEqual(withLfs.lfs.sighted, [b.oid]);
    });

    test('the pieces of a resumable upload nobody added to for two days are deleted, a recent one kept', async (t) => {
      const { stores, repo, scope } = await setUp(t);
      if (!hasBlobAges(stores.blobs)) {
        t.skip('the store cannot tell when a blob was written');
        return;
      }
      const piece = `${lfsUploadsBlobPrefix(repo.info.id)}${a.oid}-${a.content.length}/0000000000000000-0123456789abcdef`;
      await stores.blobs.putIfAbsent(piece, a.content);
      // The store's clock is the real one: the collector's runs from now on.
      let later = 0;
      const now = () => Date.now() + later;
      const collect = async () => {
        const lease = await MaintenanceLease.acquire(stores.kv, scope, 'test', LEASE_MS, now);
        assert.ok(lease, 'the lease is free');
        try {
          return await collectLfsObjects(repo, lease, { graceMs: GRACE_MS, now });
        } finally {
          await lease.release();
        }
      };
      assert.equal((await collect()).abandonedUploads, 0);
      assert.ok(await stores.blobs.head(piece), 'a recent piece stays');
      later = ABANDONED_UPLOAD_MS + 60_000;
      assert.equal((await collect()).abandonedUploads, 1);
      assert.equal(await stores.blobs.head(piece), undefined);
    });
  });
}
