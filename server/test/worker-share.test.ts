import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../src/config.js';
import { defaultWorkers, machineCores } from '../src/cluster/machine-cores.js';
import { workerShare } from '../src/cluster/worker-share.js';

const machine = loadConfig({ GITFLEET_WORKERS: '3', GITFLEET_INDEX_THREADS: '4', GITFLEET_BROWSE_THREADS: '2' }, '/srv/gitfleet');
const shares = [0, 1, 2].map((index) => workerShare(machine, { index, count: 3 }));
const sum = (pick: (config: typeof machine) => number) => shares.reduce((total, share) => total + pick(share), 0);

test('the workers together hold at most the machine’s memory', () => {
  for (const pick of [
    (c: typeof machine) => c.cache.maxBytes,
    (c: typeof machine) => c.cache.indexBytes,
    (c: typeof machine) => c.cache.deltaBaseBytes,
    (c: typeof machine) => c.cache.reencodedBytes,
    (c: typeof machine) => c.browse.diffCacheBytes,
    (c: typeof machine) => c.browse.inMemoryReadBytes,
  ]) {
    assert.ok(sum(pick) <= pick(machine), `${sum(pick)} > ${pick(machine)}`);
    assert.ok(sum(pick) > pick(machine) - 3, 'and not much less');
  }
});

test('counts are shared out rounded up, so each worker has at least one', () => {
  assert.equal(shares[0].packIndexing.threads, 2);
  assert.equal(shares[0].browse.threads, 1);
  assert.equal(shares[0].connections.maxConnections, Math.ceil(machine.connections.maxConnections / 3));
  assert.equal(shares[0].pushes.maxPushesPerAccount, Math.ceil(machine.pushes.maxPushesPerAccount / 3));
  assert.equal(shares[0].passwordChecks.concurrent, 1);
});

test('a per-client bound that is off stays off', () => {
  const unlimited = loadConfig({ GITFLEET_WORKERS: '3', GITFLEET_MAX_CONNECTIONS_PER_CLIENT: '0' }, '/srv/gitfleet');
  assert.equal(workerShare(unlimited, { index: 1, count: 3 }).connections.maxConnectionsPerClient, 0);
});

test('only the first worker sweeps the repositories', () => {
  assert.deepEqual(
    shares.map((share) => share.maintenance.sweepIntervalMs),
    [machine.maintenance.sweepIntervalMs, 0, 0],
  );
});

test('one worker is the whole machine', () => {
  assert.equal(workerShare(machine, { index: 0, count: 1 }), machine);
});

test('the cores a worker count defaults to follow a container’s CPU quota', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gitfleet-cpu-max-'));
  try {
    const file = join(dir, 'cpu.max');
    await writeFile(file, '150000 100000\n');
    assert.equal(machineCores(file), Math.min(2, availableParallelism()));
    await writeFile(file, 'max 100000\n');
    assert.equal(machineCores(file), availableParallelism());
    assert.equal(machineCores(join(dir, 'absent')), availableParallelism());
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a machine of up to two cores is served by one process by default, a larger one by a worker per core', () => {
  assert.deepEqual([1, 2, 3, 4, 16].map(defaultWorkers), [1, 1, 3, 4, 16]);
  assert.equal(loadConfig({}, '/srv/gitfleet').workers, defaultWorkers(machineCores()));
  assert.equal(loadConfig({ GITFLEET_WORKERS: '2' }, '/srv/gitfleet').workers, 2);
});
