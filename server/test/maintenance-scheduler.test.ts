// The background scheduler alone, with a runner of the test's own: when it runs maintenance,
// that a repository is never run twice at once, and that closing stops it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { Repository, RepositoryInfo } from '@gitfleet/repository';
import { MemoryKVStore } from '@gitfleet/storage';
import { MaintenanceScheduler, type MaintenanceAction, type MaintenanceRunner } from '../src/maintenance/scheduler.js';
import { kvSweepClock, type SweepClock } from '../src/maintenance/sweep-clock.js';

const silent = pino({ level: 'silent' });

function info(id: string): RepositoryInfo {
  return { id, owner: 'o', name: id, createdAt: '2026-01-01T00:00:00Z', private: false, description: '' };
}

function repository(id: string): Repository {
  return { info: info(id) } as Repository;
}

/** A runner whose runs the test ends by hand, recording what it was asked. */
class ManualRunner implements MaintenanceRunner {
  readonly started: string[] = [];
  readonly needs = new Map<string, MaintenanceAction>();
  private readonly finishers: Array<() => void> = [];
  running = 0;
  maxRunning = 0;

  async needed(repo: Repository): Promise<MaintenanceAction> {
    return this.needs.get(repo.info.id) ?? 'compact';
  }

  run(repo: Repository, signal: AbortSignal): Promise<{ ran: boolean; action: MaintenanceAction }> {
    this.started.push(repo.info.id);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    return new Promise((resolve, reject) => {
      const finish = () => {
        this.running--;
        resolve({ ran: true, action: 'compact' });
      };
      this.finishers.push(finish);
      signal.addEventListener('abort', () => {
        this.running--;
        reject(signal.reason as Error);
      });
    });
  }

  finishAll(): void {
    for (const finish of this.finishers.splice(0)) finish();
  }
}

function scheduler(
  runner: MaintenanceRunner,
  repositories: string[] = [],
  concurrency = 1,
  sweep: { intervalMs: number; clock: SweepClock } = { intervalMs: 0, clock: kvSweepClock(new MemoryKVStore()) },
  collections: { runs: number } = { runs: 0 },
): MaintenanceScheduler {
  return new MaintenanceScheduler(
    { concurrency, sweepIntervalMs: sweep.intervalMs },
    {
      runner,
      open: (i) => repository(i.id),
      listRepositories: async () => repositories.map(info),
      collectFleetGarbage: async () => {
        collections.runs++;
      },
      sweepClock: sweep.clock,
      logger: silent,
    },
  );
}

/** A sweep clock over a KV store that records every sweep claimed through it. */
function recordingClock(): { clock: SweepClock; kv: MemoryKVStore; claimed: number[] } {
  const kv = new MemoryKVStore();
  const shared = kvSweepClock(kv);
  const claimed: number[] = [];
  return {
    kv,
    claimed,
    clock: {
      last: () => shared.last(),
      async claim(previous, now) {
        const won = await shared.claim(previous, now);
        if (won) claimed.push(now);
        return won;
      },
    },
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('MaintenanceScheduler', () => {
  it('runs a repository whose packs need it, once however many pushes ask meanwhile', async () => {
    const runner = new ManualRunner();
    const scheduling = scheduler(runner);
    for (let i = 0; i < 5; i++) scheduling.afterPush(repository('a'));
    await settle();
    assert.deepEqual(runner.started, ['a']);
    scheduling.afterPush(repository('a'));
    await settle();
    assert.deepEqual(runner.started, ['a'], 'a push during the run must not start a second run of the same repository');
    runner.finishAll();
    await scheduling.idle();
    scheduling.afterPush(repository('a'));
    await settle();
    assert.deepEqual(runner.started, ['a', 'a'], 'a push after the run is considered again');
    runner.finishAll();
    await scheduling.close();
  });

  it('leaves alone a repository that needs nothing', async () => {
    const runner = new ManualRunner();
    runner.needs.set('tidy', 'none');
    const scheduling = scheduler(runner);
    scheduling.afterPush(repository('tidy'));
    await settle();
    assert.deepEqual(runner.started, []);
    await scheduling.close();
  });

  it('runs at most `concurrency` repositories at once and works through the queue', async () => {
    const runner = new ManualRunner();
    const collections = { runs: 0 };
    const scheduling = scheduler(runner, ['a', 'b', 'c', 'd'], 2, undefined, collections);
    await scheduling.sweep();
    await settle();
    assert.deepEqual(runner.started, ['a', 'b']);
    assert.equal(collections.runs, 1, "a sweep collects the fleet's garbage once");
    runner.finishAll();
    await settle();
    await settle();
    assert.deepEqual(runner.started, ['a', 'b', 'c', 'd']);
    runner.finishAll();
    await scheduling.idle();
    assert.equal(runner.maxRunning, 2);
    await scheduling.close();
  });

  it("a process started late in the fleet's sweep interval sweeps when it is due, not a whole interval after its start", async () => {
    const intervalMs = 60_000;
    const { clock, claimed } = recordingClock();
    // The fleet's last sweep was almost an interval ago (the process that made it was replaced).
    assert.equal(await clock.claim(undefined, Date.now() - intervalMs + 100), true);
    const runner = new ManualRunner();
    const scheduling = scheduler(runner, ['a'], 1, { intervalMs, clock });
    scheduling.start();
    for (let waited = 0; waited < 20_000 && runner.started.length === 0; waited += 20) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(runner.started, ['a']);
    assert.equal(claimed.length, 2);
    runner.finishAll();
    await scheduling.close();
  });

  it('processes sharing the sweep clock sweep once per interval between them', async () => {
    const intervalMs = 150;
    const { clock, claimed } = recordingClock();
    const runners = [new ManualRunner(), new ManualRunner(), new ManualRunner()];
    const schedulings = runners.map((runner) => scheduler(runner, ['a'], 1, { intervalMs, clock }));
    for (const scheduling of schedulings) scheduling.start();
    while (claimed.length < 5) {
      await new Promise((r) => setTimeout(r, 20));
      for (const runner of runners) runner.finishAll();
    }
    await Promise.all(schedulings.map((scheduling) => scheduling.close()));
    // The first claim starts the fleet's clock; each later one is a sweep, an interval or more after the one before.
    for (let i = 1; i < claimed.length; i++) assert.ok(claimed[i] - claimed[i - 1] >= intervalMs, `claims ${JSON.stringify(claimed)}`);
    const sweeps = runners.reduce((total, runner) => total + runner.started.length, 0);
    assert.ok(sweeps >= claimed.length - 2 && sweeps <= claimed.length - 1, `${sweeps} sweeps for claims ${JSON.stringify(claimed)}`);
  });

  it('close() aborts the running maintenance, drops the queue and waits', async () => {
    const runner = new ManualRunner();
    const scheduling = scheduler(runner, ['a', 'b']);
    await scheduling.sweep();
    await settle();
    await scheduling.close();
    assert.equal(runner.running, 0);
    assert.deepEqual(runner.started, ['a'], 'the queued repository must not start after close()');
    scheduling.afterPush(repository('c'));
    await settle();
    assert.deepEqual(runner.started, ['a']);
  });

  it('a failing check or run is logged, not thrown, and does not stop the next', async () => {
    const runner = new ManualRunner();
    runner.needed = async (repo) => {
      if (repo.info.id === 'broken') throw new Error('KV unreachable');
      return 'compact';
    };
    const scheduling = scheduler(runner, ['broken', 'fine']);
    await scheduling.sweep();
    await settle();
    assert.deepEqual(runner.started, ['fine']);
    runner.finishAll();
    await scheduling.close();
  });
});
