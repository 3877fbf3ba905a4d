// The background placement repair over real stores (FsBlobStores in a temp directory, the
// SQLite KV store, each runner with its own connections as separate servers have): one runner
// in the fleet at a time, a dead runner's lease taken over once it expired, and a run that
// restores a copy removed by hand and removes a copy left on a store no longer preferred.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, rm, utimes } from 'node:fs/promises';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { loadConfig, startServer } from '../src/index.js';
import { MaintenanceLease } from '@gitfleet/repository';
import { FsBlobStore, PlacementBlobStore, SqliteKVStore, type BlobInfo, type BlobStore, type PlacementMember } from '@gitfleet/storage';
import { runCli } from '@gitfleet/test-support/cli';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { PLACEMENT_REPAIR_CLOCK_KEY, PlacementRepairJob, type PlacementRepairAttempt } from '../src/maintenance/placement-repair-job.js';
import { PLACEMENT_LAYOUT_KEY } from '../src/maintenance/placement-layout.js';
import { PLACEMENT_REPAIR_LEASE_SCOPE } from '../src/maintenance/placement-repair-lease.js';
import { kvSweepClock } from '../src/maintenance/sweep-clock.js';
import { metricsRegistry } from '../src/metrics/registry.js';

const silent = pino({ level: 'silent' });
const NAMES = ['a', 'b', 'c'];
const HOUR = 60 * 60 * 1000;

/** A store whose listings wait until the test opens the gate: a run that lists it is held in the middle. */
class GatedStore implements BlobStore {
  private openGate!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.openGate = resolve));
  private enter!: () => void;
  /** Resolves when a listing reached the gate. */
  readonly entered = new Promise<void>((resolve) => (this.enter = resolve));

  constructor(private readonly inner: BlobStore) {}

  open(): void {
    this.openGate();
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    this.enter();
    await this.gate;
    yield* this.inner.list(prefix);
  }
  putIfAbsent(...args: Parameters<BlobStore['putIfAbsent']>) {
    return this.inner.putIfAbsent(...args);
  }
  get(...args: Parameters<BlobStore['get']>) {
    return this.inner.get(...args);
  }
  getStream(...args: Parameters<BlobStore['getStream']>) {
    return this.inner.getStream(...args);
  }
  head(key: string) {
    return this.inner.head(key);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
  close() {
    return this.inner.close();
  }
}

/** The environment of a server (or `gitfleet repair`) over the test's stores and KV file. */
function serverEnv(dataDir: string): Record<string, string> {
  return {
    GITFLEET_DATA_DIR: dataDir,
    GITFLEET_BLOB_BACKEND: 'placement',
    GITFLEET_KV_BACKEND: 'sqlite',
    GITFLEET_PLACEMENT_STORES: JSON.stringify(NAMES.map((name) => ({ name, type: 'fs', path: `stores/${name}` }))),
    GITFLEET_PLACEMENT_REPLICAS: '2',
    LOG_LEVEL: 'silent',
  };
}

/** What one server process of the fleet has: its own store objects and KV connection over the shared files. */
async function serverProcess(t: TestContext, dataDir: string, wrap: (name: string, store: BlobStore) => BlobStore = (_, store) => store) {
  const members: PlacementMember[] = [];
  for (const name of NAMES) members.push({ name, store: wrap(name, await FsBlobStore.open(path.join(dataDir, 'stores', name))) });
  const placement = new PlacementBlobStore({ stores: members, replicas: 2 });
  const kv = new SqliteKVStore(path.join(dataDir, 'kv.sqlite'));
  const job = new PlacementRepairJob(
    placement,
    kv,
    { intervalMs: 24 * HOUR, cleanup: true, concurrency: 2, cleanupMinAgeMs: HOUR, holder: `test-${members.length}` },
    silent,
  );
  t.after(async () => {
    await job.close();
    await placement.close();
    await kv.close();
  });
  return { placement, kv, job, members };
}

/** Keys under several prefixes: the job treats packs, journal entries and LFS objects alike. */
async function fill(placement: PlacementBlobStore, count: number): Promise<string[]> {
  const prefixes = ['repos/r1/packs/pack-', 'journal/r1/', 'lfs/objects/'];
  const keys = Array.from({ length: count }, (_, i) => `${prefixes[i % prefixes.length]}${String(i).padStart(4, '0')}`);
  for (const [i, key] of keys.entries()) await placement.putIfAbsent(key, randomBytes(50 + i));
  return keys;
}

/** Sets every stored file's modification time `ms` back (default two hours): copies written long before the run. */
async function ageStores(dataDir: string, ms = 2 * HOUR): Promise<void> {
  const when = new Date(Date.now() - ms);
  for (const entry of await readdir(path.join(dataDir, 'stores'), { recursive: true, withFileTypes: true }))
    if (entry.isFile()) await utimes(path.join(entry.parentPath, entry.name), when, when);
}

async function counterValue(name: string): Promise<number> {
  const metric = await metricsRegistry.getSingleMetric(name)?.get();
  return (metric?.values ?? []).reduce((sum, value) => sum + value.value, 0);
}

/** Names of the stores that hold `key`, asking each directly. */
async function holders(members: readonly PlacementMember[], key: string): Promise<string[]> {
  const found: string[] = [];
  for (const { name, store } of members) if (await store.head(key)) found.push(name);
  return found.sort();
}

function ran(attempt: PlacementRepairAttempt) {
  assert.equal(attempt.kind, 'ran', JSON.stringify(attempt));
  return attempt.outcome;
}

describe('placement repair job', () => {
  it('runs on one runner of the fleet at a time: the others, and the CLI, are refused while it holds the lease', async (t) => {
    const dataDir = tempDir(t, 'placement-job');
    let gated: GatedStore | undefined;
    const first = await serverProcess(t, dataDir, (name, store) => (name === 'a' ? (gated = new GatedStore(store)) : store));
    const second = await serverProcess(t, dataDir);
    await fill(second.placement, 12);
    // The fleet's last run was long ago: a run is due.
    assert.equal(await kvSweepClock(second.kv, PLACEMENT_REPAIR_CLOCK_KEY).claim(undefined, 0), true);

    const held = first.job.runIfDue();
    await gated!.entered;
    // Should an assertion below fail, the held run must still end (its lease renewal keeps the process alive).
    t.after(() => gated!.open());
    assert.deepEqual(await second.job.runIfDue(), { kind: 'busy' });
    assert.deepEqual(await second.job.runNow(), { kind: 'busy' });
    const cli = await runCli(['repair'], serverEnv(dataDir));
    assert.equal(cli.code, 1, cli.stdout);
    assert.match(cli.stderr, /another repair is running/);

    gated!.open();
    assert.equal(ran(await held).repair.keys, 12);
    const next = await second.job.runIfDue();
    assert.equal(next.kind, 'notDue', 'the fleet ran in this interval');
    assert.ok(next.kind === 'notDue' && next.waitMs > 23 * HOUR, JSON.stringify(next));
    assert.equal(ran(await second.job.runNow()).repair.healthy, 12, 'the lease was given back');
  });

  it("takes over a dead runner's lease once it has expired, not before", async (t) => {
    const dataDir = tempDir(t, 'placement-job');
    const { kv, job, placement } = await serverProcess(t, dataDir);
    await fill(placement, 3);
    const expired = await MaintenanceLease.acquire(kv, PLACEMENT_REPAIR_LEASE_SCOPE, 'dead-expired', 60_000, () => Date.now() - 2 * 60_000);
    assert.ok(expired);
    assert.equal(ran(await job.runNow()).repair.keys, 3);

    const alive = await MaintenanceLease.acquire(kv, PLACEMENT_REPAIR_LEASE_SCOPE, 'dead-recently', HOUR);
    assert.ok(alive, 'the job gave its lease back');
    assert.deepEqual(await job.runNow(), { kind: 'busy' });
  });

  it('restores a copy removed by hand and removes a copy on a store no longer preferred, counting both in its metrics', async (t) => {
    const dataDir = tempDir(t, 'placement-job');
    const { job, placement, members } = await serverProcess(t, dataDir);
    const keys = await fill(placement, 15);
    const store = (name: string) => members.find((member) => member.name === name)!.store;
    const [lostKey, extraKey] = keys;
    const lostFrom = placement.placement(lostKey)[0];
    await rm(path.join(dataDir, 'stores', lostFrom, lostKey));
    // A copy a write made on the third store while a preferred one was down, say.
    const elsewhere = placement.placement(extraKey)[2];
    assert.equal(await store(elsewhere).putIfAbsent(extraKey, (await placement.get(extraKey))!), true);
    await ageStores(dataDir);
    const removedBefore = await counterValue('gitfleet_placement_cleanup_copies_removed_total');
    const copiedBefore = await counterValue('gitfleet_placement_repair_copies_total');

    const { repair, cleanup, ok } = ran(await job.runNow());
    assert.equal(ok, true);
    assert.deepEqual({ keys: repair.keys, repaired: repair.repaired, copies: repair.copies }, { keys: 15, repaired: 1, copies: 1 });
    assert.deepEqual({ extraCopies: cleanup?.extraCopies, removed: cleanup?.removed }, { extraCopies: 1, removed: 1 });
    assert.ok(await store(lostFrom).head(lostKey), 'the copy is back');
    assert.equal(await store(elsewhere).head(extraKey), undefined, 'the surplus copy is gone');
    for (const key of keys) {
      for (const name of NAMES) {
        const preferred = placement.placement(key).slice(0, 2).includes(name);
        assert.equal((await store(name).head(key)) !== undefined, preferred, `${key} on ${name}`);
      }
    }
    assert.equal((await counterValue('gitfleet_placement_cleanup_copies_removed_total')) - removedBefore, 1);
    assert.equal((await counterValue('gitfleet_placement_repair_copies_total')) - copiedBefore, 1);
  });

  it('waits for the longest a write may run when the grace period it is given is shorter', async (t) => {
    const dataDir = tempDir(t, 'placement-job');
    // The job is given an hour; 2 × 3 stores × 600 s + 300 s is 65 minutes.
    const { job, placement, members } = await serverProcess(t, dataDir);
    const [key] = await fill(placement, 1);
    const third = members.find((m) => m.name === placement.placement(key)[2])!.store;
    await third.putIfAbsent(key, (await placement.get(key))!);
    await ageStores(dataDir, 62 * 60 * 1000);
    const young = ran(await job.runNow()).cleanup;
    assert.deepEqual({ removed: young?.removed, tooYoung: young?.keptBecause.tooYoung }, { removed: 0, tooYoung: 1 });
    await ageStores(dataDir, 66 * 60 * 1000);
    assert.equal(ran(await job.runNow()).cleanup?.removed, 1);
  });

  it('`gitfleet repair --cleanup` counts in a dry run, then removes the surplus copies once they are old enough', async (t) => {
    const dataDir = tempDir(t, 'placement-job');
    const { placement, members } = await serverProcess(t, dataDir);
    const keys = await fill(placement, 6);
    // As if R had been 3: every key gets a copy on its third store too.
    const third = (key: string) => members.find((m) => m.name === placement.placement(key)[2])!.store;
    for (const key of keys) await third(key).putIfAbsent(key, (await placement.get(key))!);

    const unrecorded = await runCli(['repair', '--cleanup'], serverEnv(dataDir));
    assert.equal(unrecorded.code, 1, unrecorded.stdout);
    assert.match(unrecorded.stderr, /cleanup refused: the fleet has no recorded placement layout/);
    const accepted = await runCli(['repair', '--accept-layout'], serverEnv(dataDir));
    assert.equal(accepted.code, 0, accepted.stderr);

    // 2 × 3 stores × the 600 s write timeout + 300 s of clock skew.
    const tooShort = await runCli(['repair', '--cleanup', '--min-age', '3899'], serverEnv(dataDir));
    assert.equal(tooShort.code, 2, tooShort.stdout);
    assert.match(tooShort.stderr, /--min-age 3899 is below 3900 s, the longest a write to 3 stores may run/);

    const young = await runCli(['repair', '--cleanup'], serverEnv(dataDir));
    assert.equal(young.code, 0, young.stderr);
    assert.match(young.stdout, /6 copies outside their preferred stores, 0 removed .*, 6 kept \(6 tooYoung\)$/m);

    await ageStores(dataDir, 7 * HOUR);
    const dry = await runCli(['repair', '--cleanup', '--dry-run', '--min-age', '3899', '--unsafe-min-age'], serverEnv(dataDir));
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^6 blobs checked: 6 had their copies, 0 repaired/m);
    assert.match(dry.stdout, /^6 blobs checked: 6 copies outside their preferred stores, 6 removed .*, 0 kept$/m);
    for (const key of keys) assert.ok(await third(key).head(key), 'the dry run removed nothing');

    const real = await runCli(['repair', '--cleanup'], serverEnv(dataDir));
    assert.equal(real.code, 0, real.stderr);
    assert.match(real.stdout, /6 copies outside their preferred stores, 6 removed/);
    for (const key of keys) assert.equal(await third(key).head(key), undefined, key);
  });

  it("cleans only where the layout is the fleet's: a process with another R repairs but refuses to clean until the layout is accepted", async (t) => {
    const dataDir = tempDir(t, 'placement-job');
    const { job, placement, members, kv } = await serverProcess(t, dataDir);
    const keys = await fill(placement, 6);
    const third = (key: string) => members.find((m) => m.name === placement.placement(key)[2])!.store;
    await ageStores(dataDir);
    assert.equal(ran(await job.runNow()).cleanup?.extraCopies, 0, "the job's first run records the fleet's layout");
    assert.deepEqual(JSON.parse((await kv.get(PLACEMENT_REPAIR_LEASE_SCOPE, PLACEMENT_LAYOUT_KEY))!), { stores: NAMES, replicas: 2 });

    // An operator's shell with R=1, the fleet runs R=2: a cleanup there would delete one of the two copies of every blob.
    const lowered = { ...serverEnv(dataDir), GITFLEET_PLACEMENT_REPLICAS: '1' };
    const refused = await runCli(['repair', '--cleanup'], lowered);
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(
      refused.stderr,
      /cleanup refused: this process's placement layout .*"replicas":1.* differs from the fleet's recorded .*"replicas":2/,
    );
    const repairOnly = await runCli(['repair'], lowered);
    assert.equal(repairOnly.code, 0, repairOnly.stderr);
    for (const key of keys) assert.deepEqual(await holders(members, key), placement.placement(key).slice(0, 2).sort(), key);

    // The fleet moves to R=3 on purpose: the servers write a third copy, the layout is accepted, and the old R no longer cleans.
    for (const key of keys) await third(key).putIfAbsent(key, (await placement.get(key))!);
    await ageStores(dataDir);
    const raised = { ...serverEnv(dataDir), GITFLEET_PLACEMENT_REPLICAS: '3' };
    const accepted = await runCli(['repair', '--cleanup', '--accept-layout'], raised);
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.match(accepted.stdout, /0 copies outside their preferred stores/);
    const { cleanup } = ran(await job.runNow());
    assert.equal(cleanup, undefined, 'a runner with the old layout repairs only');
    for (const key of keys) assert.equal((await holders(members, key)).length, 3, key);
  });

  it('runs in two servers on the same stores and KV, one run at a time, and restores a copy removed by hand', async (t) => {
    const dataDir = tempDir(t, 'placement-job');
    const { placement, members } = await serverProcess(t, dataDir);
    const keys = await fill(placement, 9);
    const [lostKey, extraKey] = keys;
    const lostFrom = placement.placement(lostKey)[1];
    await rm(path.join(dataDir, 'stores', lostFrom, lostKey));
    const elsewhere = members.find((member) => member.name === placement.placement(extraKey)[2])!.store;
    await elsewhere.putIfAbsent(extraKey, (await placement.get(extraKey))!);
    // Older than the packs' grace period (6 hours), which the servers' cleanup waits for.
    await ageStores(dataDir, 7 * HOUR);

    // Both servers log into one list, in the order things happen in this process.
    const events: Array<{ server: number; msg: string }> = [];
    const logger = (server: number) =>
      pino({ level: 'info' }, { write: (line: string) => void events.push({ server, msg: (JSON.parse(line) as { msg: string }).msg }) });
    const config = loadConfig({
      ...serverEnv(dataDir),
      PORT: '0',
      GITFLEET_PLACEMENT_REPAIR_SECONDS: '1',
      GITFLEET_MAINTENANCE: '0',
    });
    const servers = [await startServer({ config, logger: logger(1) }), await startServer({ config, logger: logger(2) })];
    try {
      const runsEnded = () => events.filter((event) => event.msg.startsWith('placement repair: run ended')).length;
      // Waits on what the servers do, not on a time: the first run starts one interval after the fleet's first server.
      while (runsEnded() < 3) await sleep(50);
    } finally {
      await Promise.all(servers.map((server) => server.close()));
    }

    const runs = events.filter((event) => /^placement repair: run (started|ended)/.test(event.msg));
    for (const [i, event] of runs.entries()) {
      const starts = i % 2 === 0;
      assert.equal(event.msg.startsWith('placement repair: run started'), starts, `one run at a time: ${JSON.stringify(runs)}`);
      if (!starts) assert.equal(event.server, runs[i - 1].server, 'a run ends where it started');
    }
    assert.ok(await members.find((member) => member.name === lostFrom)!.store.head(lostKey), 'the copy removed by hand is back');
    assert.equal(await elsewhere.head(extraKey), undefined, 'the copy on a store no longer preferred is gone');
  });
});
