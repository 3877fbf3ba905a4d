import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { Counter } from 'prom-client';
import { machineMetrics } from '../src/metrics/cluster.js';
import { metricsRegistry } from '../src/metrics/registry.js';

const FIXTURE = fileURLToPath(new URL('./metrics-cluster-fixture.ts', import.meta.url));

async function runCluster(mode?: 'silent-primary'): Promise<{ contentType?: string; body?: string; error?: string; workerIds: number[] }> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', FIXTURE, ...(mode ? [mode] : [])], {
    timeout: 60_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Awaited<ReturnType<typeof runCluster>>;
}

test("a worker's metrics are the whole cluster's: counters summed by the primary, per-process values one per worker", async () => {
  const { contentType, body, error, workerIds } = await runCluster();
  assert.equal(error, undefined);
  assert.match(contentType!, /^text\/plain; version=0\.0\.4/);
  assert.match(body!, /^fixture_pushes_total 7$/m, 'the counters of both workers (3 + 4)');
  assert.match(body!, new RegExp(`^fixture_lag_seconds\\{worker="${workerIds[0]}"\\} 0\\.03$`, 'm'));
  assert.match(body!, new RegExp(`^fixture_lag_seconds\\{worker="${workerIds[1]}"\\} 0\\.04$`, 'm'));
});

test('a worker whose primary does not answer gets an error that says so', async () => {
  const { body, error } = await runCluster('silent-primary');
  assert.equal(body, undefined);
  assert.match(error!, /the cluster primary did not answer within 500 ms/);
});

test('outside a cluster, the metrics are those of the process itself', async () => {
  new Counter({ name: 'standalone_test_total', help: 'only here', registers: [metricsRegistry] }).inc(5);
  const { body } = await machineMetrics();
  assert.match(body, /^standalone_test_total 5$/m);
});
