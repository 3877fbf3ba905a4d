import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { Counter } from 'prom-client';
import { machineMetrics } from '../src/metrics/cluster.js';
import { metricsRegistry } from '../src/metrics/registry.js';

const FIXTURE = fileURLToPath(new URL('./metrics-cluster-fixture.ts', import.meta.url));

async function runCluster(mode?: 'silent-primary'): Promise<{ contentType?: string; body?: string; error?: string }> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', FIXTURE, ...(mode ? [mode] : [])], {
    timeout: 60_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Awaited<ReturnType<typeof runCluster>>;
}

test("a worker's metrics are the whole cluster's: every worker's series, each labelled with its slot", async () => {
  const { contentType, body, error } = await runCluster();
  assert.equal(error, undefined);
  assert.match(contentType!, /^text\/plain; version=0\.0\.4/);
  assert.match(body!, /^fixture_pushes_total\{worker="0"\} 3$/m);
  assert.match(body!, /^fixture_pushes_total\{worker="1"\} 4$/m);
  assert.match(body!, /^fixture_lag_seconds\{worker="0"\} 0\.03$/m);
  assert.match(body!, /^fixture_lag_seconds\{worker="1"\} 0\.04$/m);
});

test('a worker whose primary does not answer gets an error that says so', async () => {
  const { body, error } = await runCluster('silent-primary');
  assert.equal(body, undefined);
  assert.match(error!, /the cluster primary did not answer within 500 ms/);
});

test('outside a cluster, the metrics are those of the process itself', async () => {
  new Counter({ name: 'standalone_test_total', help: 'only here', registers: [metricsRegistry] }).inc(5);
  const { body } = await machineMetrics();
  assert.match(body, /^standalone_test_total\{worker="0"\} 5$/m);
});
