import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ZERO_OID } from '@gitfleet/git-format';
import type { KVStore } from '@gitfleet/storage';
import { git, gitText } from '@gitfleet/test-support/git';
import { buildHistory } from '@gitfleet/test-support/histories';
import { catFile } from '@gitfleet/test-support/packs';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import {
  DEFAULT_MAINTENANCE_POLICY,
  LeaseLostError,
  MaintenanceLease,
  ObjectLossError,
  PublishConflictError,
  collectPacks,
  defaultPackWriter,
  maintainRepository,
  maintenanceNeeded,
  publishPacks,
  type PackToPublish,
  type PackWriterStage,
  type Repository,
  type Stores,
} from '../src/index.js';
import {
  DELETING_KEY_PREFIX,
  ORPHAN_KEY_PREFIX,
  deletingKey,
  idxBlobKey,
  joinedPackBlobKey,
  packBlobKey,
  packKey,
  repositoryScope,
} from '../src/keys.js';
import { caches } from './backends.js';
import type { BuiltPack } from './git-fixtures.js';
import {
  GitPackWriter,
  REPOSITORY_ID,
  allObjects,
  maintenanceBackends,
  openRepository,
  packRange,
  push,
  testClock,
} from './maintenance-fixtures.js';

const PUSHES = 64;
const GRACE_SECONDS = 60;
const workDir = tempDir({ after }, 'maintenance');
const scope = repositoryScope(REPOSITORY_ID);
let source: string;
/** pushes[i]: the objects commit i+1 added, as its push sends them. */
const pushes: BuiltPack[] = [];
const commits: string[] = [];
let expected: Map<string, { type: string; data: Buffer }>;
let writer: GitPackWriter;

before(() => {
  source = buildHistory(workDir, PUSHES);
  for (let i = 1; i <= PUSHES; i++) {
    const revs = i === 1 ? [`main~${PUSHES - 1}`] : [`main~${PUSHES - i}`, `^main~${PUSHES - i + 1}`];
    pushes.push(packRange(source, path.join(workDir, `push-${i}`), revs));
    commits.push(gitText(source, ['rev-parse', `main~${PUSHES - i}`]).trim());
  }
  // The tag buildHistory makes is left out: these pushes move main only.
  expected = catFile(source, allObjects(source));
  writer = new GitPackWriter(source);
});

/** Pushes alternate between packs spooled to files and packs received in memory, so that maintenance meets both layouts. */
async function pushCommits(repo: Repository, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) {
    const ref = { name: 'refs/heads/main', oldOid: i === 0 ? ZERO_OID : commits[i - 1], newOid: commits[i] };
    await push(repo, pushes[i], ref, i % 2 === 0 ? 'bytes' : 'file');
  }
}

/** Objects of the first `count` pushes. */
function objectsOf(count: number): string[] {
  return [...new Set(pushes.slice(0, count).flatMap((pack) => oidsOf(pack)))];
}

function oidsOf(pack: BuiltPack): string[] {
  return gitText(path.dirname(pack.packPath), ['show-index'], pack.idx)
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ')[1]);
}

async function assertReadable(repo: Repository, oids: readonly string[]): Promise<void> {
  for (const oid of oids) {
    const got = await repo.objects.read(oid);
    assert.ok(got, `object ${oid} is not readable`);
    assert.equal(got.type, expected.get(oid)!.type);
    assert.ok(got.data.equals(expected.get(oid)!.data), `content of ${oid}`);
  }
}

/** Whether the pack is stored, in either layout. */
async function blobExists(stores: Stores, checksum: string): Promise<boolean> {
  const [pack, idx, joined] = await Promise.all([
    stores.blobs.head(packBlobKey(REPOSITORY_ID, checksum)),
    stores.blobs.head(idxBlobKey(REPOSITORY_ID, checksum)),
    stores.blobs.head(joinedPackBlobKey(REPOSITORY_ID, checksum)),
  ]);
  assert.equal(pack === undefined, idx === undefined, `pack and idx of ${checksum} come and go together`);
  return pack !== undefined || joined !== undefined;
}

/** A pull-request ref keeps the last three of six commits pushed; the branch goes back to the third. */
async function pullRequestOverBranch(repo: Repository): Promise<void> {
  const rejected = await repo.refs.update(
    [
      { name: 'refs/pull/1/head', oldOid: ZERO_OID, newOid: commits[5] },
      { name: 'refs/heads/main', oldOid: commits[5], newOid: commits[2] },
    ],
    { atomic: true, message: 'pull request' },
  );
  assert.deepEqual(rejected, []);
}

/** Compacts `checksums` with the C git writer and stores the result, unpublished. */
async function writeCompaction(repo: Repository, checksums: readonly string[], dir: string): Promise<PackToPublish> {
  const pack = await writer.compact(repo.packs, checksums, path.join(dir, 'compaction.pack'));
  const index = await repo.packs.store(pack.path, pack.size, pack.idx, pack.checksum);
  return { checksum: pack.checksum, size: pack.size, index, kind: 'compaction' };
}

for (const backend of maintenanceBackends) {
  describe(`maintenance over ${backend.name}`, () => {
    test('exactly one of two servers gets the lease; it expires, is renewed, and a runner that lost it cannot publish', async (t) => {
      const stores = await backend.open(t);
      const clock = testClock();
      const [a, b] = [openRepository(stores), openRepository(stores)];
      const leases = await Promise.all(
        [a, b].map((repo, i) => MaintenanceLease.acquire(repo.stores.kv, scope, `server-${i}`, 10_000, clock.now)),
      );
      assert.equal(leases.filter(Boolean).length, 1, 'exactly one lease');
      const held = leases.find(Boolean)!;
      clock.advance(9_000);
      assert.equal(await MaintenanceLease.acquire(stores.kv, scope, 'late', 10_000, clock.now), undefined, 'not expired yet');
      await held.renew();
      clock.advance(9_000);
      assert.equal(await MaintenanceLease.acquire(stores.kv, scope, 'late', 10_000, clock.now), undefined, 'renewed');
      assert.equal((await MaintenanceLease.held(stores.kv, scope, clock.now))?.holder, held.holder, 'whoever asks sees who holds it');
      clock.advance(2_000);
      assert.equal(await MaintenanceLease.held(stores.kv, scope, clock.now), undefined, 'an expired lease is held by nobody');
      const taker = await MaintenanceLease.acquire(stores.kv, scope, 'taker', 10_000, clock.now);
      assert.ok(taker, 'an expired lease is taken over');
      await assert.rejects(held.renew(), LeaseLostError);

      await pushCommits(a, 0, 3);
      const dir = tempDir(t, 'lost');
      const packs = (await a.packs.list()).map((p) => p.checksum);
      const compaction = await writeCompaction(a, packs, dir);
      await assert.rejects(publishPacks(a, held, { added: [compaction], replaced: packs, now: clock.now }), LeaseLostError);
      assert.deepEqual((await openRepository(stores).packs.list()).map((p) => p.checksum).sort(), [...packs].sort(), 'nothing published');
      await publishPacks(a, taker, { added: [compaction], replaced: packs, now: clock.now });
      assert.deepEqual(
        (await openRepository(stores).packs.list()).map((p) => p.checksum),
        [compaction.checksum],
      );
      await taker.release();
      assert.equal(await MaintenanceLease.held(stores.kv, scope, clock.now), undefined, 'a released lease is held by nobody');
      assert.ok(await MaintenanceLease.acquire(stores.kv, scope, 'next', 10_000, clock.now), 'released');
    });

    test('records written before kinds existed read as receive packs; a malformed kind is refused', async (t) => {
      const stores = await backend.open(t);
      const repo = openRepository(stores);
      await pushCommits(repo, 0, 1);
      const key = packKey(pushes[0].checksum);
      const current = (await stores.kv.get(scope, key))!;
      const { size, objects, createdAt } = JSON.parse(current) as { size: number; objects: number; createdAt: string };
      const legacy = JSON.stringify({ size, objects, createdAt });
      await stores.kv.compareAndSwap(scope, [{ key, expect: current, value: legacy }], 'all');
      assert.deepEqual(
        (await openRepository(stores).packs.list()).map((p) => p.kind),
        ['receive'],
      );
      await stores.kv.compareAndSwap(
        scope,
        [{ key, expect: legacy, value: JSON.stringify({ size, objects, createdAt, kind: 'other' }) }],
        'all',
      );
      await assert.rejects(openRepository(stores).packs.list(), /malformed entry for pack/);
    });

    test('a long run renews its lease and publishes; a run whose lease is taken stops, publishes nothing and leaves no temp files', async (t) => {
      const stores = await backend.open(t);
      await pushCommits(openRepository(stores), 0, 5);
      const tmpDir = tempDir(t, 'renew');
      const leaseValue = async () => (await stores.kv.get(scope, 'maintenance:lease'))!;
      const slow: PackWriterStage = {
        async compact(packs, checksums, packPath) {
          // Outlive the lease several times over: only renewals keep it.
          const seen = new Set([await leaseValue()]);
          while (seen.size < 4) {
            await new Promise((resolve) => setTimeout(resolve, 20));
            seen.add(await leaseValue());
          }
          return writer.compact(packs, checksums, packPath);
        },
        repack: () => Promise.reject(new Error('not used')),
      };
      const report = await maintainRepository(openRepository(stores), {
        holder: 'slow',
        graceSeconds: GRACE_SECONDS,
        mode: 'compact',
        tmpDir,
        writer: slow,
        leaseSeconds: 0.2,
      });
      assert.equal(report.action, 'compact');
      assert.deepEqual(readdirSync(tmpDir), [], 'temp files removed');
      const registry = await stores.kv.scan(scope, 'pack:');

      await pushCommits(openRepository(stores), 5, 8);
      const registryBefore = await stores.kv.scan(scope, 'pack:');
      const robbed: PackWriterStage = {
        async compact(_packs, _checksums, _packPath, options) {
          const value = await leaseValue();
          // Another server took the lease over (it judged it expired).
          const taken = JSON.stringify({ holder: 'other', token: 'x', expiresAt: new Date(Date.now() + 600_000).toISOString() });
          await stores.kv.compareAndSwap(scope, [{ key: 'maintenance:lease', expect: value, value: taken }], 'all');
          await new Promise((resolve) => options.signal!.addEventListener('abort', resolve, { once: true }));
          throw options.signal!.reason;
        },
        repack: () => Promise.reject(new Error('not used')),
      };
      await assert.rejects(
        maintainRepository(openRepository(stores), {
          holder: 'robbed',
          graceSeconds: GRACE_SECONDS,
          mode: 'compact',
          tmpDir,
          writer: robbed,
          leaseSeconds: 0.2,
        }),
        LeaseLostError,
      );
      assert.deepEqual(await stores.kv.scan(scope, 'pack:'), registryBefore, 'nothing published');
      assert.notDeepEqual(registryBefore, registry);
      assert.deepEqual(readdirSync(tmpDir), [], 'temp files removed');
    });

    test('a full repack publishes the reachable objects as a repack pack and the rest as cruft, retiring every pack; progress is reported', async (t) => {
      const stores = await backend.open(t);
      const repo = openRepository(stores);
      await pushCommits(repo, 0, 6);
      // A force-push back to the third commit: the objects of the last three become unreachable.
      assert.deepEqual(
        await repo.refs.update([{ name: 'refs/heads/main', oldOid: commits[5], newOid: commits[2] }], { atomic: true, message: 'force' }),
        [],
      );
      const before = (await repo.packs.list()).map((p) => p.checksum);
      const phases: string[] = [];
      const tmpDir = tempDir(t, 'full');
      const report = await maintainRepository(repo, {
        holder: 'full',
        graceSeconds: GRACE_SECONDS,
        mode: 'full',
        tmpDir,
        writer,
        onProgress: (event) => phases.push(`${event.phase}:${event.action}`),
      });
      assert.equal(report.action, 'full');
      assert.deepEqual([...report.retired].sort(), [...before].sort());
      assert.deepEqual(phases, ['plan:full', 'collect:full', 'store:full', 'publish:full']);
      const after = await openRepository(stores).packs.list();
      assert.deepEqual(after.map((p) => p.kind).sort(), ['cruft', 'repack']);
      const repack = after.find((p) => p.kind === 'repack')!;
      const cruft = after.find((p) => p.kind === 'cruft')!;
      assert.equal(repack.objects, objectsOf(3).length);
      assert.equal(report.objectsWritten, objectsOf(6).length);
      assert.equal(repack.objects + cruft.objects, objectsOf(6).length);
      for (const checksum of before) assert.equal(JSON.parse((await stores.kv.get(scope, packKey(checksum)))!).replacedBy, repack.checksum);
      await assertReadable(openRepository(stores), objectsOf(6));
      assert.deepEqual(readdirSync(tmpDir), []);
    });

    test('a full repack keeps what only refs outside a clone reach in a pack of its own, which no later run counts or compacts', async (t) => {
      const stores = await backend.open(t);
      const repo = openRepository(stores);
      await pushCommits(repo, 0, 6);
      await pullRequestOverBranch(repo);
      const tmpDir = tempDir(t, 'layers');
      // The product's writer: its sidecars name the tips of each layer.
      const run = (mode: 'auto' | 'full') =>
        maintainRepository(repo, { holder: 'layers', graceSeconds: GRACE_SECONDS, mode, tmpDir, writer: defaultPackWriter });
      const report = await run('full');
      const after = await openRepository(stores).packs.list();
      assert.deepEqual(after.map((p) => p.kind).sort(), ['repack', 'repack-rest']);
      const repack = after.find((p) => p.kind === 'repack')!;
      assert.equal(repack.objects, objectsOf(3).length, 'the clone pack: what the branch reaches');
      assert.equal(after.find((p) => p.kind === 'repack-rest')!.objects, objectsOf(6).length - objectsOf(3).length);
      const layers = await openRepository(stores).packs.repackLayers();
      assert.equal(layers?.clonePack, repack.checksum);
      assert.deepEqual([...layers.cloneTips!], [commits[2]], 'the clone pack records the tips it was written for');
      assert.deepEqual(new Set(layers.rest?.tips), new Set([commits[2], commits[5]]), 'the rest pack, those of both layers');
      for (const checksum of report.retired)
        assert.equal(JSON.parse((await stores.kv.get(scope, packKey(checksum)))!).replacedBy, repack.checksum);
      await assertReadable(openRepository(stores), objectsOf(6));

      assert.equal(
        await maintenanceNeeded(repo, { compactAbovePacks: 1 }),
        'none',
        'the rest pack is neither outside the repack nor compacted',
      );
      assert.equal((await run('auto')).action, 'none');
    });

    test('a full repack that writes a retired pack again within its grace period makes it active again; the collector keeps it', async (t) => {
      const stores = await backend.open(t);
      const clock = testClock();
      const repo = openRepository(stores);
      await pushCommits(repo, 0, 6);
      const pullRequest = (oldOid: string, newOid: string) =>
        repo.refs.update([{ name: 'refs/pull/1/head', oldOid, newOid }], { atomic: true, message: 'pull request' });
      await pullRequestOverBranch(repo);
      const tmpDir = tempDir(t, 'revival');
      const full = () =>
        maintainRepository(repo, { holder: 'revival', graceSeconds: GRACE_SECONDS, mode: 'full', tmpDir, writer, now: clock.now });
      const kinds = async () => new Map((await openRepository(stores).packs.list()).map((p) => [p.kind, p.checksum]));
      await full();
      const rest = (await kinds()).get('repack-rest')!;

      // The pull request closes: its objects go to the cruft pack, the rest pack is retired.
      assert.deepEqual(await pullRequest(commits[5], ZERO_OID), []);
      clock.advance(1000);
      assert.deepEqual((await full()).retired, [rest]);
      const cruft = (await kinds()).get('cruft')!;
      // It opens again where it was: the next repack writes the retired rest pack byte for byte.
      assert.deepEqual(await pullRequest(ZERO_OID, commits[5]), []);
      clock.advance(1000);
      const reopened = await full();
      assert.deepEqual(reopened.retired, [cruft]);
      assert.deepEqual(
        (await openRepository(stores).packs.list()).map((p) => p.kind),
        ['repack', 'repack-rest'],
        'the clone pack, rewritten, lists first again',
      );
      assert.equal((await kinds()).get('repack-rest'), rest);
      const record = JSON.parse((await stores.kv.get(scope, packKey(rest)))!);
      assert.equal(record.retiredAt, undefined);
      assert.equal(record.replacedBy, undefined);
      assert.equal(record.createdAt, new Date(clock.now() - 1).toISOString(), 'listed as published now, after its clone pack');

      clock.advance(GRACE_SECONDS * 1000 + 1);
      const { collected } = await full();
      assert.ok(collected.includes(cruft), 'the retired cruft pack is collected');
      assert.ok(!collected.includes(rest), 'the revived pack is not');
      assert.ok(await blobExists(stores, rest), 'the revived pack keeps its blobs');
      await assertReadable(openRepository(stores), objectsOf(6));
    });

    test('two concurrent maintenance runs on two servers: one runs, the other reports ran: false', async (t) => {
      const stores = await backend.open(t);
      await pushCommits(openRepository(stores), 0, 6);
      const tmpDir = tempDir(t, 'runs');
      const run = (holder: string) =>
        maintainRepository(openRepository(stores), { holder, graceSeconds: GRACE_SECONDS, mode: 'compact', tmpDir, writer });
      await assert.rejects(
        maintainRepository(openRepository(stores), { holder: 'x', graceSeconds: 30, mode: 'compact', tmpDir, writer }),
        /must exceed the registry view age \(30 s\)/,
      );
      const reports = await Promise.all([run('one'), run('two')]);
      assert.deepEqual(reports.map((r) => r.ran).sort(), [false, true]);
      const ran = reports.find((r) => r.ran)!;
      assert.equal(ran.action, 'compact');
      assert.equal(ran.packsBefore, 6);
      assert.ok(ran.packsAfter < 6 && ran.retired.length >= 2, JSON.stringify(ran));
      await assertReadable(openRepository(stores), objectsOf(6));
    });

    test('publication refuses a changed record, a pack registered already, and a replacement that would lose objects; nothing changes', async (t) => {
      const stores = await backend.open(t);
      const clock = testClock();
      const repo = openRepository(stores);
      await pushCommits(repo, 0, 4);
      const dir = tempDir(t, 'conflicts');
      const packs = (await repo.packs.list()).map((p) => p.checksum);
      const lease = (await MaintenanceLease.acquire(stores.kv, scope, 'runner', 60_000, clock.now))!;
      const registryBefore = await stores.kv.scan(scope, 'pack:');

      const partial = await writeCompaction(repo, packs.slice(0, 2), dir);
      await assert.rejects(publishPacks(repo, lease, { added: [partial], replaced: packs, now: clock.now }), ObjectLossError);

      // Another writer changes a record between the read and the CAS.
      const full = await writeCompaction(repo, packs, path.join(dir, 'full'));
      const racing = openRepository({ ...stores, kv: changingBeforeCas(stores.kv, packKey(packs[1])) });
      await assert.rejects(publishPacks(racing, lease, { added: [full], replaced: packs, now: clock.now }), PublishConflictError);
      const changed = await stores.kv.get(scope, packKey(packs[1]));
      await stores.kv.compareAndSwap(
        scope,
        [{ key: packKey(packs[1]), expect: changed!, value: registryBefore.find((e) => e.key === packKey(packs[1]))!.value }],
        'all',
      );

      // The compacted pack itself is registered already (pushed meanwhile).
      await stores.kv.compareAndSwap(
        scope,
        [{ key: packKey(full.checksum), expect: null, value: JSON.stringify({ size: 1, objects: 1, createdAt: 'x' }) }],
        'all',
      );
      await assert.rejects(publishPacks(repo, lease, { added: [full], replaced: packs, now: clock.now }), /registered already/);
      await stores.kv.compareAndSwap(
        scope,
        [{ key: packKey(full.checksum), expect: JSON.stringify({ size: 1, objects: 1, createdAt: 'x' }), value: null }],
        'all',
      );
      assert.deepEqual(await stores.kv.scan(scope, 'pack:'), registryBefore, 'the registry is as before');

      await publishPacks(repo, lease, { added: [full], replaced: packs, now: clock.now });
      const fresh = openRepository(stores);
      assert.deepEqual(
        (await fresh.packs.list()).map((p) => [p.checksum, p.kind]),
        [[full.checksum, 'compaction']],
      );
      for (const checksum of packs) {
        const record = JSON.parse((await stores.kv.get(scope, packKey(checksum)))!);
        assert.equal(record.retiredAt, new Date(clock.now()).toISOString());
        assert.equal(record.replacedBy, full.checksum);
        assert.equal(record.kind, 'receive');
      }
      await assertReadable(fresh, objectsOf(4));
    });

    test('readers holding the old list keep reading during the grace period; the collector deletes retired packs only after it', async (t) => {
      const stores = await backend.open(t);
      const clock = testClock();
      let viewClock = 0;
      await pushCommits(openRepository(stores), 0, 5);
      // Caches of its own: the reader must go to the blob store, not to bytes another repository object cached.
      const reader = openRepository({ ...stores, ...caches() }, { maxAgeMs: 30_000, now: () => viewClock });
      const old = (await reader.packs.list()).map((p) => p.checksum);
      assert.equal(old.length, 5);
      // A process whose view is never refreshed (it outlived every bound, say it was suspended).
      const stale = openRepository({ ...stores, ...caches() }, { maxAgeMs: 30_000, now: () => 0 });
      await stale.packs.list();
      const report = await maintainRepository(openRepository(stores), {
        holder: 'm',
        graceSeconds: GRACE_SECONDS,
        mode: 'compact',
        tmpDir: tempDir(t, 'grace'),
        writer,
        now: clock.now,
      });
      assert.equal(report.action, 'compact');
      assert.deepEqual(report.collected, [], 'nothing is past its grace period yet');
      for (const checksum of report.retired) assert.ok(await blobExists(stores, checksum), `retired ${checksum} stays readable`);

      // Within its view age, the reader still lists the retired packs and reads through them.
      assert.deepEqual(
        (await reader.packs.list()).map((p) => p.checksum),
        old,
      );
      await assertReadable(reader, objectsOf(5));
      // Once the view is older than maxAgeMs, it is read again: retired packs leave the list.
      viewClock += 30_001;
      const relisted = (await reader.packs.list()).map((p) => p.checksum);
      for (const checksum of report.retired) assert.ok(!relisted.includes(checksum), `${checksum} left the list`);
      assert.equal(relisted.length, report.packsAfter);

      clock.advance(GRACE_SECONDS * 1000 - 1);
      const early = (await MaintenanceLease.acquire(stores.kv, scope, 'c', 60_000, clock.now))!;
      assert.deepEqual(
        (await collectPacks(openRepository(stores), early, { graceMs: GRACE_SECONDS * 1000, now: clock.now })).collected,
        [],
      );
      await early.release();
      clock.advance(2);
      const collected = await maintainRepository(openRepository(stores), {
        holder: 'm',
        graceSeconds: GRACE_SECONDS,
        mode: 'compact',
        tmpDir: tempDir(t, 'grace3'),
        writer,
        now: clock.now,
      });
      assert.deepEqual([...collected.collected].sort(), [...report.retired].sort());
      for (const checksum of report.retired) {
        assert.equal(await blobExists(stores, checksum), false, `${checksum} deleted`);
        assert.equal(await stores.kv.get(scope, packKey(checksum)), undefined, `record of ${checksum} deleted`);
      }
      // Its view still names the deleted packs: each read recovers with one refresh.
      await assertReadable(stale, objectsOf(5));
    });

    test('orphaned pack blobs are deleted a grace period after they were first seen, unless registered meanwhile', async (t) => {
      const stores = await backend.open(t);
      const clock = testClock();
      const repo = openRepository(stores);
      await pushCommits(repo, 0, 1);
      const [crashed, late] = [pushes[1], pushes[2]];
      // Two pushes that stored their pack and never registered it (yet).
      await repo.packs.store(crashed.packPath, crashed.packSize, crashed.idx, crashed.checksum);
      await repo.packs.store(late.packPath, late.packSize, late.idx, late.checksum);
      await stores.blobs.putIfAbsent(`repos/${REPOSITORY_ID}/packs/pack-${crashed.checksum}.bitmap`, Buffer.from('sidecar'));
      const lease = (await MaintenanceLease.acquire(stores.kv, scope, 'c', 600_000, clock.now))!;
      const collect = () => collectPacks(repo, lease, { graceMs: GRACE_SECONDS * 1000, now: clock.now });

      assert.deepEqual((await collect()).orphansSighted.sort(), [crashed.checksum, late.checksum].sort());
      clock.advance(GRACE_SECONDS * 1000);
      assert.deepEqual((await collect()).orphansCollected, [], 'not yet past the grace period');
      await repo.packs.add(late.packPath, late.packSize, late.idx, late.checksum);
      clock.advance(1);
      const report = await collect();
      assert.deepEqual(report.orphansCollected, [crashed.checksum]);
      assert.equal(await blobExists(stores, crashed.checksum), false);
      assert.equal(await stores.blobs.head(`repos/${REPOSITORY_ID}/packs/pack-${crashed.checksum}.bitmap`), undefined);
      assert.ok(await blobExists(stores, late.checksum), 'registered meanwhile: kept');
      assert.deepEqual(await stores.kv.scan(scope, ORPHAN_KEY_PREFIX), [], 'sightings forgotten');
      assert.deepEqual(await stores.kv.scan(scope, DELETING_KEY_PREFIX), []);
      await assertReadable(openRepository(stores), [...objectsOf(1), ...oidsOf(late)]);
    });

    test('with a listing interval, a run lists the pack blobs for new orphans only once it has passed, and collects those sighted before meanwhile', async (t) => {
      const stores = await backend.open(t);
      const clock = testClock();
      const repo = openRepository(stores);
      await pushCommits(repo, 0, 1);
      const [first, second] = [pushes[1], pushes[2]];
      const graceMs = GRACE_SECONDS * 1000;
      const lease = (await MaintenanceLease.acquire(stores.kv, scope, 'c', 600_000, clock.now))!;
      const collect = () => collectPacks(repo, lease, { graceMs, now: clock.now, orphanListingIntervalMs: 2 * graceMs });

      await repo.packs.store(first.packPath, first.packSize, first.idx, first.checksum);
      assert.deepEqual((await collect()).orphansSighted, [first.checksum], 'the first run lists');
      await repo.packs.store(second.packPath, second.packSize, second.idx, second.checksum);
      clock.advance(graceMs + 1);
      const between = await collect();
      assert.deepEqual(between.orphansSighted, [], 'not listed again within the interval');
      assert.deepEqual(between.orphansCollected, [first.checksum], 'an orphan sighted before is collected without a listing');
      assert.equal(await blobExists(stores, first.checksum), false);
      assert.ok(await blobExists(stores, second.checksum));
      clock.advance(graceMs);
      assert.deepEqual((await collect()).orphansSighted, [second.checksum], 'listed once the interval has passed');
    });

    test('a push of the same pack while the collector deletes its stale blobs waits, then stores its own and registers', async (t) => {
      const stores = await backend.open(t);
      const repo = openRepository(stores);
      const pack = pushes[0];
      await repo.packs.store(pack.packPath, pack.packSize, pack.idx, pack.checksum);
      // The collector's mark, as it is about to delete the blobs.
      await stores.kv.compareAndSwap(scope, [{ key: deletingKey(pack.checksum), expect: null, value: 'mark' }], 'all');
      let registered = false;
      const adding = repo.packs.add(pack.packPath, pack.packSize, pack.idx, pack.checksum).then(() => (registered = true));
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(registered, false, 'waits while the mark is there');
      await stores.blobs.delete(packBlobKey(REPOSITORY_ID, pack.checksum));
      await stores.blobs.delete(idxBlobKey(REPOSITORY_ID, pack.checksum));
      await stores.kv.compareAndSwap(scope, [{ key: deletingKey(pack.checksum), expect: 'mark', value: null }], 'all');
      await adding;
      assert.ok(await blobExists(stores, pack.checksum), 'stored again');
      await assertReadable(openRepository(stores), objectsOf(1));
    });

    test('a push interleaved at every step with the compaction of the packs it relied on loses no object', async (t) => {
      const pushSteps = ['read base', 'add pack', 'move ref'] as const;
      const maintenanceSteps = ['write', 'publish', 'collect'] as const;
      for (const order of interleavings(pushSteps.length, maintenanceSteps.length)) {
        const stores = await backend.open(t);
        const clock = testClock();
        await pushCommits(openRepository(stores), 0, 3);
        // The pushing server listed the packs before the compaction began.
        const pusher = openRepository({ ...stores, ...caches() });
        const based = (await pusher.packs.list()).map((p) => p.checksum);
        const maintainer = openRepository(stores);
        const lease = (await MaintenanceLease.acquire(stores.kv, scope, 'm', 600_000, clock.now))!;
        const dir = tempDir(t, 'race');
        let compaction: PackToPublish | undefined;
        const steps = {
          push: [
            async () => {
              // Thin-pack completion and connectivity: the parent commit and its tree.
              const parent = await pusher.objects.read(commits[2]);
              assert.ok(parent, 'the parent is found');
              assert.ok(await pusher.objects.read(parent.data.toString('latin1').slice(5, 45)), 'its tree is found');
            },
            () => pusher.packs.add(pushes[3].packPath, pushes[3].packSize, pushes[3].idx, pushes[3].checksum),
            async () =>
              assert.deepEqual(
                await pusher.refs.update([{ name: 'refs/heads/main', oldOid: commits[2], newOid: commits[3] }], {
                  atomic: true,
                  message: 'push',
                }),
                [],
              ),
          ],
          maintenance: [
            async () => (compaction = await writeCompaction(maintainer, based, dir)),
            () => publishPacks(maintainer, lease, { added: [compaction!], replaced: based, now: clock.now }),
            async () => {
              clock.advance(GRACE_SECONDS * 1000 + 1);
              const { collected } = await collectPacks(maintainer, lease, { graceMs: GRACE_SECONDS * 1000, now: clock.now });
              assert.deepEqual(collected.sort(), [...based].sort());
            },
          ],
        };
        const label = order
          .map((who, i) => (who === 'push' ? pushSteps : maintenanceSteps)[order.slice(0, i).filter((w) => w === who).length])
          .join(' → ');
        const next = { push: 0, maintenance: 0 };
        for (const who of order) await steps[who][next[who]++]();
        for (const repo of [pusher, openRepository(stores)]) {
          assert.equal(await repo.refs.get('refs/heads/main'), commits[3], label);
          await assertReadable(repo, objectsOf(4)).catch((error: Error) => assert.fail(`${label}: ${error.message}`));
        }
        const active = (await openRepository(stores).packs.list()).map((p) => p.checksum).sort();
        assert.deepEqual(active, [compaction!.checksum, pushes[3].checksum].sort(), label);
      }
    });

    test(`${PUSHES} pushes one by one with maintenance after each keep the pack count logarithmic; a full repack verifies with git fsck`, async (t) => {
      const stores = await backend.open(t);
      const repo = openRepository(stores);
      const tmpDir = tempDir(t, 'many');
      const policy = { fullRepackMinObjects: Number.POSITIVE_INFINITY };
      let most = 0;
      for (let i = 0; i < PUSHES; i++) {
        await pushCommits(repo, i, i + 1);
        if ((await maintenanceNeeded(repo, policy)) === 'none') continue;
        const report = await maintainRepository(repo, {
          holder: 'sweep',
          graceSeconds: GRACE_SECONDS,
          mode: 'auto',
          tmpDir,
          writer,
          policy,
        });
        assert.equal(report.action, 'compact');
        const objects = (await repo.packs.list()).reduce((sum, p) => sum + p.objects, 0);
        // A progression of factor 2 over n objects has at most log2(n) + 1 packs; compaction waits for more than compactAbovePacks.
        const bound = Math.max(DEFAULT_MAINTENANCE_POLICY.compactAbovePacks, Math.floor(Math.log2(objects)) + 1);
        assert.ok(report.packsAfter <= bound, `after push ${i + 1}: ${report.packsAfter} packs for ${objects} objects`);
        assert.ok(report.packsBefore <= bound + 1, `before compaction ${i + 1}: ${report.packsBefore} packs for ${objects} objects`);
        most = Math.max(most, report.packsBefore);
      }
      const packs = await repo.packs.list();
      const objects = packs.reduce((sum, p) => sum + p.objects, 0);
      t.diagnostic(
        `${packs.length} packs (${packs.map((p) => p.objects).join(', ')} objects) after ${PUSHES} pushes; at most ${most} before a compaction`,
      );
      assert.ok(packs.length <= Math.max(DEFAULT_MAINTENANCE_POLICY.compactAbovePacks, Math.floor(Math.log2(objects)) + 1));
      await assertReadable(repo, objectsOf(PUSHES));

      const full = await maintainRepository(repo, { holder: 'sweep', graceSeconds: GRACE_SECONDS, mode: 'full', tmpDir, writer });
      assert.equal(full.action, 'full');
      const repacked = await repo.packs.list();
      assert.deepEqual(
        repacked.map((p) => p.kind),
        ['repack'],
        'every object reachable: no cruft',
      );
      await assertReadable(repo, objectsOf(PUSHES));

      // A clone-equivalent for C git: the stored packs as they are, and the refs.
      const clone = path.join(tempDir(t, 'fsck'), 'clone.git');
      git(workDir, ['init', '--quiet', '--bare', clone]);
      for (const pack of repacked) {
        for (const [key, ext] of [
          [packBlobKey(REPOSITORY_ID, pack.checksum), 'pack'],
          [idxBlobKey(REPOSITORY_ID, pack.checksum), 'idx'],
        ] as const) {
          writeFileSync(path.join(clone, 'objects', 'pack', `pack-${pack.checksum}.${ext}`), (await stores.blobs.get(key))!);
        }
      }
      for (const ref of await repo.refs.list()) git(clone, ['update-ref', ref.name, ref.oid]);
      git(clone, ['fsck', '--strict', '--no-dangling']);
      assert.equal(gitText(clone, ['rev-parse', 'refs/heads/main']).trim(), commits[PUSHES - 1]);
    });
  });
}

/** Every order of `a` steps of 'push' and `b` of 'maintenance', each side keeping its own order. */
function interleavings(a: number, b: number): Array<Array<'push' | 'maintenance'>> {
  if (a === 0) return [Array(b).fill('maintenance')];
  if (b === 0) return [Array(a).fill('push')];
  return [
    ...interleavings(a - 1, b).map((rest) => ['push' as const, ...rest]),
    ...interleavings(a, b - 1).map((rest) => ['maintenance' as const, ...rest]),
  ];
}

/** A KV store that, right before the first CAS touching `key`, changes that key's value (another writer won the race). */
function changingBeforeCas(kv: KVStore, key: string): KVStore {
  let raced = false;
  return {
    get: (...args) => kv.get(...args),
    getMany: (...args) => kv.getMany(...args),
    scan: (...args) => kv.scan(...args),
    append: (...args) => kv.append(...args),
    readLog: (...args) => kv.readLog(...args),
    close: () => kv.close(),
    async compareAndSwap(scopeName, ops, mode) {
      if (!raced && ops.some((op) => op.key === key)) {
        raced = true;
        const value = (await kv.get(scopeName, key))!;
        await kv.compareAndSwap(scopeName, [{ key, expect: value, value: value.replace('}', ',"sidecars":["rev"]}') }], 'all');
      }
      return kv.compareAndSwap(scopeName, ops, mode);
    },
  };
}
