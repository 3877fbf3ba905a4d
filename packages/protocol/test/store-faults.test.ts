// Pushes and fetches on stores that fail a tenth of their requests (errors, lost answers, slow
// answers, bodies cut mid-way; seeded: GITFLEET_FAULT_SEED replays a run): a push either is
// acknowledged and durable or fails with a message and changes nothing, a fetch either sends
// exactly the history or fails, and once the faults stop the same stores and caches serve
// everything without re-creating anything.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { ZERO_OID } from '@gitfleet/git-format';
import { KVRefDB, Repository, defaultPackWriter, maintainRepository, type Repository as RepositoryType } from '@gitfleet/repository';
import { FaultInjector, InjectedFault, type InjectedFaultRecord } from '@gitfleet/storage';
import { git } from '@gitfleet/test-support/git';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { commitChain, initSource, listObjects, packRevs } from './receive-pack-fixtures.js';
import { fetchPack, interceptedRepository, push, smallCaches, type PushOutcome } from './intercepted-repository.js';
import { indexInto, objectsOfPack, revListObjects } from './upload-pack-helpers.js';

const SEED = Number(process.env.GITFLEET_FAULT_SEED ?? 13);
const PUSHES = 30;
const ROUNDS = 8;
const MAIN = 'refs/heads/main';

/** Whether `error`, or an error it was caused by, is one the injector made. */
function causedByInjectedFault(error: unknown): boolean {
  for (let cause = error; cause instanceof Error; cause = cause.cause) if (cause instanceof InjectedFault) return true;
  return false;
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : JSON.stringify(error);
}

/** What git would show of a failed push: the ng reason and the fatal or error lines. */
function failureMessage(outcome: PushOutcome): string {
  const refused = outcome.report.find((line) => line.startsWith(`ng ${MAIN} `));
  return [refused, outcome.fatal.trim()].filter(Boolean).join('; ');
}

/** A fetched pack must be the history of `tip`, every object, nothing broken (index-pack --strict, fsck). */
function assertExactHistory(dir: string, source: string, pack: Buffer, tip: string, label: string): void {
  const clone = path.join(dir, label);
  git(dir, ['init', '--quiet', '--bare', clone]);
  const checksum = indexInto(clone, pack);
  assert.deepEqual(objectsOfPack(clone, checksum), revListObjects(source, [tip]), `${label}: the objects of ${tip}`);
  git(clone, ['update-ref', MAIN, tip]);
  git(clone, ['fsck', '--full', '--strict', '--no-dangling']);
}

/** A fetch of `tip`'s history: true when it sent exactly that history, false when it failed by an injected fault. */
async function fetchChecked(repo: RepositoryType, dir: string, source: string, tip: string, label: string): Promise<boolean> {
  const fetched = await fetchPack(repo, [tip]);
  if (fetched.pack) {
    assertExactHistory(dir, source, fetched.pack, tip, label);
    return true;
  }
  assert.ok(
    causedByInjectedFault(fetched.error) || /injected fault/.test(errorText(fetched.error)),
    `${label}: ${errorText(fetched.error)}`,
  );
  return false;
}

async function readEveryObject(repo: RepositoryType, oids: readonly string[]): Promise<void> {
  for (const oid of oids) assert.ok(await repo.objects.read(oid), `object ${oid} is readable`);
}

test(`with 10% of store requests faulted (seed ${SEED}), pushes and fetches succeed whole or fail cleanly, and all recovers`, async (t) => {
  const dir = tempDir(t, 'store-faults');
  const spoolDir = path.join(dir, 'spool');
  const source = initSource(dir);
  const commits = commitChain(source, PUSHES);
  const injector = new FaultInjector({ seed: SEED, rate: 0.1, delayMs: 1 });
  injector.enabled = false;
  const { repo, inner } = await interceptedRepository(injector);
  injector.enabled = true;
  const storedRefs = new KVRefDB(repo.info.id, inner.kv);
  const tally = { pushesOk: 0, pushesFailed: 0, pushesUnknownOutcome: 0, fetchesOk: 0, fetchesFailed: 0 };
  const failures: string[] = [];

  let tip = ZERO_OID; // what the stores hold: acknowledged pushes, and those whose outcome was lost
  for (const [round, next] of commits.entries()) {
    const faultsBefore = injector.injected.length;
    const pack = packRevs(source, tip === ZERO_OID ? [next] : [next, `^${tip}`], { thin: true });
    const outcome = await push(repo, spoolDir, [{ old: tip, new: next, ref: MAIN }], pack);
    const faults: InjectedFaultRecord[] = injector.injected.slice(faultsBefore);
    const stored = (await storedRefs.get(MAIN)) ?? ZERO_OID;
    if (outcome.report.includes(`ok ${MAIN}`)) {
      assert.equal(stored, next, `round ${round}: an acknowledged push moved the ref`);
      tally.pushesOk++;
      tip = next;
    } else {
      const message = failureMessage(outcome);
      assert.notEqual(message, '', `round ${round}: a failed push says why`);
      if (outcome.error !== undefined) {
        assert.ok(causedByInjectedFault(outcome.error), `round ${round}: the failure is an injected one: ${errorText(outcome.error)}`);
      }
      failures.push(message);
      if (stored === next) {
        // The one way a failed push can have moved the ref: the ref CAS ran, its answer was lost.
        assert.ok(
          faults.some((fault) => fault.operation === 'kv.compareAndSwap' && fault.kind === 'timeout'),
          `round ${round}: a failed push moved the ref (${message}); faults: ${JSON.stringify(faults)}`,
        );
        tally.pushesUnknownOutcome++;
        tip = next;
      } else {
        assert.equal(stored, tip, `round ${round}: a failed push (${message}) changed nothing`);
        tally.pushesFailed++;
      }
    }
    if (tip === ZERO_OID) continue;
    if (await fetchChecked(repo, dir, source, tip, `fetch-${round}`)) tally.fetchesOk++;
    else tally.fetchesFailed++;
  }
  t.diagnostic(`seed ${SEED}: ${JSON.stringify(tally)}, ${injector.injected.length} faults injected`);
  t.diagnostic(`push failures as reported: ${JSON.stringify([...new Set(failures)])}`);
  assert.ok(injector.injected.length >= 20, `faults were injected: ${injector.injected.length}`);
  assert.ok(tally.pushesOk > 0 && tally.pushesFailed > 0, `some pushes succeeded and some failed: ${JSON.stringify(tally)}`);

  // The faults stop: the very same stores and caches serve the whole history, and take pushes.
  injector.enabled = false;
  const history = listObjects(source, [tip]);
  await readEveryObject(repo, history);
  assert.ok(await fetchChecked(repo, dir, source, tip, 'fetch-after'), 'a fetch after the faults');
  const [last] = commitChain(source, 1, tip, 1000);
  const final = await push(repo, spoolDir, [{ old: tip, new: last, ref: MAIN }], packRevs(source, [last, `^${tip}`], { thin: true }));
  assert.deepEqual(final.report, ['unpack ok', `ok ${MAIN}`], final.fatal);

  // Durable: a process with fresh caches over what the stores hold reads it all.
  const fresh = new Repository(repo.info, { blobs: inner.blobs, kv: inner.kv, ...smallCaches() });
  assert.equal(await fresh.refs.get(MAIN), last);
  await readEveryObject(fresh, listObjects(source, [last]));
});

test(`maintenance among pushes and fetches on faulted stores (seed ${SEED}) never loses an object, and runs again once the faults stop`, async (t) => {
  const dir = tempDir(t, 'store-faults-maintenance');
  const spoolDir = path.join(dir, 'spool');
  const source = initSource(dir);
  const commits = commitChain(source, ROUNDS * 2);
  // Maintenance, leases, the collector and the registry view all read this clock: each round
  // moves it past the grace period, so that retired packs are collected under faults too.
  let time = Date.parse('2026-06-01T00:00:00.000Z');
  const now = () => time;
  const injector = new FaultInjector({ seed: SEED, rate: 0.1, delayMs: 1 });
  injector.enabled = false;
  const { repo, inner } = await interceptedRepository(injector, { maxAgeMs: 1_000, now });
  injector.enabled = true;
  const storedRefs = new KVRefDB(repo.info.id, inner.kv);
  const maintain = (mode: 'full' | 'compact') =>
    maintainRepository(repo, {
      holder: 'faults',
      graceSeconds: 2,
      leaseSeconds: 3,
      mode,
      tmpDir: tempDir(t, 'maintenance'),
      writer: defaultPackWriter,
      now,
    });
  const tally = { maintenanceOk: 0, maintenanceFailed: 0, fetchesOk: 0, fetchesFailed: 0 };

  let tip = ZERO_OID;
  for (const [round, next] of commits.entries()) {
    const pack = packRevs(source, tip === ZERO_OID ? [next] : [next, `^${tip}`], { thin: true });
    await push(repo, spoolDir, [{ old: tip, new: next, ref: MAIN }], pack);
    tip = (await storedRefs.get(MAIN)) ?? ZERO_OID;
    if (round % 2 === 0) continue;
    try {
      await maintain(round % 4 === 1 ? 'full' : 'compact');
      tally.maintenanceOk++;
    } catch (error) {
      assert.ok(causedByInjectedFault(error), `round ${round}: maintenance failed by itself: ${errorText(error)}`);
      tally.maintenanceFailed++;
    }
    time += 5_000;
    if (tip === ZERO_OID) continue;
    if (await fetchChecked(repo, dir, source, tip, `fetch-${round}`)) tally.fetchesOk++;
    else tally.fetchesFailed++;
  }
  t.diagnostic(`seed ${SEED}: ${JSON.stringify(tally)}, ${injector.injected.length} faults injected`);
  assert.notEqual(tip, ZERO_OID, 'some push went through');

  injector.enabled = false;
  time += 10_000; // past any lease a failed run left
  const report = await maintain('full');
  assert.equal(report.ran, true, 'maintenance runs again');
  time += 5_000;
  await maintain('compact'); // collects what the full repack retired
  assert.ok(await fetchChecked(repo, dir, source, tip, 'fetch-after'), 'a fetch after the faults');
  await readEveryObject(new Repository(repo.info, { blobs: inner.blobs, kv: inner.kv, ...smallCaches() }), listObjects(source, [tip]));
});
