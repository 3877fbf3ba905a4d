// GET /metrics end to end: what real clones and pushes move, the request histogram's route
// classes, who may read the metrics, and turning them off.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { GitClient, PROTOCOLS } from '@gitfleet/test-support/git-client';
import { MetricsScrape } from '@gitfleet/test-support/metrics';
import { LOOPBACK_RECEIVERS_ENV, serverForFile, serverTest, startServer } from '@gitfleet/test-support/server';
import { api, eventually } from './helpers/webhooks.js';

const TOKEN = 'metrics-token-for-the-e2e-test';
const server = serverForFile({ GITFLEET_METRICS_TOKEN: TOKEN, ...LOOPBACK_RECEIVERS_ENV });
const it = serverTest(() => server);

async function scrape(): Promise<MetricsScrape> {
  const response = await fetch(`${server.url}/metrics`);
  assert.equal(response.status, 200, await response.clone().text());
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return MetricsScrape.parse(await response.text());
}

async function objectCount(git: GitClient, dir: string): Promise<number> {
  return (await git.ok(['rev-list', '--objects', '--all'], { cwd: dir })).trim().split('\n').length;
}

for (const protocol of PROTOCOLS) {
  describe(`protocol v${protocol}`, () => {
    it('a push and a clone move the git, pack and cache metrics by what they did', async () => {
      const git = await GitClient.create(protocol);
      try {
        const url = await server.createRepo('e2e-metrics', `moved-v${protocol}`);
        const seed = await git.init('seed');
        await git.commitFiles(seed, { 'a.txt': 'alpha\n'.repeat(100), 'dir/b.txt': 'beta\n' }, 'first');
        await git.commitFiles(seed, { 'a.txt': 'alpha\n'.repeat(101) }, 'second');
        const objects = await objectCount(git, seed);
        await git.ok(['remote', 'add', 'origin', url], { cwd: seed });

        const beforePush = await scrape();
        await git.ok(['push', 'origin', 'main'], { cwd: seed });
        const afterPush = await scrape();
        const push = { service: 'receive-pack', protocol: 'v0' };
        assert.equal(afterPush.since(beforePush, 'gitfleet_git_operations_total', push), 1);
        assert.equal(afterPush.since(beforePush, 'gitfleet_git_operations_total', { ...push, outcome: 'ok' }), 1);
        assert.equal(afterPush.since(beforePush, 'gitfleet_git_operation_duration_seconds_count', push), 1);
        assert.equal(afterPush.since(beforePush, 'gitfleet_git_objects_received_total'), objects);
        assert.ok(afterPush.since(beforePush, 'gitfleet_git_bytes_received_total', { service: 'receive-pack' }) > 0);
        assert.ok(afterPush.since(beforePush, 'gitfleet_git_bytes_sent_total', { service: 'receive-pack' }) > 0, 'the report');
        // A push of two small commits asks for little work: it is checked on the event loop, without a thread.
        assert.equal(afterPush.since(beforePush, 'gitfleet_pack_checks_total'), 1);
        assert.equal(afterPush.since(beforePush, 'gitfleet_pack_checks_total', { on: 'event_loop' }), 1);

        const clone = await git.clone(url, 'clone');
        assert.equal(await objectCount(git, clone), objects);
        const afterClone = await scrape();
        const fetches = { service: 'upload-pack', protocol: `v${protocol}`, outcome: 'ok' };
        assert.ok(afterClone.since(afterPush, 'gitfleet_git_operations_total', fetches) >= 1);
        assert.equal(afterClone.since(afterPush, 'gitfleet_pack_output_packs_total'), 1);
        assert.equal(afterClone.since(afterPush, 'gitfleet_git_objects_sent_total'), objects);
        const packBytes = afterClone.since(afterPush, 'gitfleet_pack_output_bytes_total');
        assert.ok(afterClone.since(afterPush, 'gitfleet_pack_output_bytes_total', { entry: 'copied' }) > 0, 'stored entries reused');
        assert.equal(afterClone.since(afterPush, 'gitfleet_pack_output_bytes_total', { entry: 'framing' }), 12 + 20);
        assert.ok(afterClone.since(afterPush, 'gitfleet_git_bytes_sent_total', { service: 'upload-pack' }) > packBytes, 'pack and framing');
        const blockLookups =
          afterClone.since(afterPush, 'gitfleet_cache_hits_total', { cache: 'block' }) +
          afterClone.since(afterPush, 'gitfleet_cache_misses_total', { cache: 'block' });
        assert.ok(blockLookups > 0, 'the pack was read through the block cache');
        assert.ok(afterClone.sum('gitfleet_cache_bytes', { cache: 'block' }) > 0);
      } finally {
        await git.cleanup();
      }
    });
  });
}

it('maintenance runs that pushes set off are counted by kind, outcome and where they ran, with their duration', async () => {
  const git = await GitClient.create(2);
  try {
    const url = await server.createRepo('e2e-metrics', 'maintained');
    const work = await git.init('work');
    const before = await scrape();
    // One pack per push: enough of them call for a compaction, which runs in the background.
    for (let i = 0; i < 12; i++) {
      await git.commitFiles(work, { [`file-${i}.txt`]: `${i}\n`.repeat(i + 1) }, `commit ${i}`);
      await git.ok(['push', '-q', url, 'HEAD:refs/heads/main'], { cwd: work });
    }
    let after = await scrape();
    for (let polls = 0; polls < 600 && after.since(before, 'gitfleet_maintenance_runs_total', { outcome: 'ok' }) === 0; polls++) {
      await sleep(100);
      after = await scrape();
    }
    const ran = after.samples.filter((sample) => sample.name === 'gitfleet_maintenance_runs_total' && sample.labels.outcome === 'ok');
    assert.ok(
      ran.some(({ labels }) => /^(compact|full)$/.test(labels.kind)),
      `a compaction or repack was counted: ${JSON.stringify(ran)}`,
    );
    for (const { labels } of ran) {
      // A push that arrives while a run is going asks for another, which may find nothing left to do.
      assert.match(labels.kind, /^(compact|full|none)$/);
      // A repository this small is maintained in the server's own process.
      assert.equal(labels.where, 'in-process');
    }
    assert.equal(
      after.since(before, 'gitfleet_maintenance_run_duration_seconds_count', { outcome: 'ok' }),
      after.since(before, 'gitfleet_maintenance_runs_total', { outcome: 'ok' }),
    );
  } finally {
    await git.cleanup();
  }
});

it('a git request refused before its response began is counted as refused', async () => {
  const url = await server.createRepo('e2e-metrics', 'refused');
  const before = await scrape();
  const response = await fetch(`${url}/git-upload-pack`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-git-upload-pack-request' },
    body: 'not a pkt-line',
  });
  assert.equal(response.status, 400);
  const after = await scrape();
  assert.equal(after.since(before, 'gitfleet_git_operations_total', { service: 'upload-pack', protocol: 'v0', outcome: 'refused' }), 1);
  assert.equal(after.since(before, 'gitfleet_git_operations_total'), 1);
});

it('requests are timed by route class and status class, never by path', async () => {
  await fetch(`${server.url}/healthz`);
  await fetch(`${server.url}/`);
  await fetch(`${server.url}/api/v1/repos/nobody/nothing`);
  await fetch(`${server.url}/nobody/nothing.git/info/refs?service=git-upload-pack`);
  await fetch(`${server.url}/anything`, { method: 'DELETE' });
  const metrics = await scrape();
  const requests = metrics.samples.filter((sample) => sample.name === 'gitfleet_http_request_duration_seconds_count');
  const classes = new Set(requests.map((sample) => sample.labels.route));
  assert.deepEqual([...classes].sort(), ['api', 'git', 'healthz', 'metrics', 'other', 'web']);
  for (const sample of requests) {
    assert.deepEqual(Object.keys(sample.labels).sort(), ['route', 'status', 'worker']);
    assert.match(sample.labels.status, /^[1-5]xx$/);
  }
  assert.ok(metrics.sum('gitfleet_http_request_duration_seconds_count', { route: 'api', status: '4xx' }) >= 1);
  assert.ok(metrics.sum('nodejs_eventloop_lag_seconds', { worker: '0' }) >= 0);
  const queues = metrics.samples.filter((sample) => sample.name === 'gitfleet_queue_waiting').map((sample) => sample.labels.queue);
  assert.deepEqual(queues.sort(), ['browse-diff', 'browse-render', 'maintenance', 'pack-index', 'password-checks', 'push-slots']);
});

it('a webhook delivery that fails is counted in the deliveries queue until it is retried', async () => {
  // A loopback port where nothing listens: the hook's ping fails and waits out its backoff.
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address() as AddressInfo;
  await new Promise((resolve) => closed.close(resolve));
  await server.createRepo('e2e-metrics', 'hooked');
  await api(
    server.url,
    'POST',
    '/repos/e2e-metrics/hooked/hooks',
    { config: { url: `http://127.0.0.1:${port}/`, content_type: 'json' } },
    201,
  );
  const waiting = await eventually('the failed ping waiting for its retry', async () => {
    const metrics = await scrape();
    return metrics.sum('gitfleet_webhook_jobs', { queue: 'deliveries', state: 'delayed' }) >= 1 ? metrics : undefined;
  });
  // Reported once for the machine, by one process.
  const series = waiting.samples.filter((sample) => sample.name === 'gitfleet_webhook_jobs');
  assert.deepEqual(new Set(series.map((sample) => sample.labels.worker)), new Set(['0']));
  assert.deepEqual(new Set(series.map((sample) => `${sample.labels.queue}/${sample.labels.state}`)).size, 6);
});

it('a client that is not local needs the bearer token: refused without it or with a wrong one', async () => {
  // Without a trusted proxy, a forwarded request may come from anywhere.
  const remote = { 'X-Forwarded-For': '203.0.113.7' };
  const refused = await fetch(`${server.url}/metrics`, { headers: remote });
  assert.equal(refused.status, 403);
  assert.match(await refused.text(), /Authorization: Bearer/);
  const wrong = await fetch(`${server.url}/metrics`, { headers: { ...remote, Authorization: 'Bearer not-the-token-at-all' } });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.headers.get('www-authenticate'), 'Bearer realm="metrics"');
  const allowed = await fetch(`${server.url}/metrics`, { headers: { ...remote, Authorization: `Bearer ${TOKEN}` } });
  assert.equal(allowed.status, 200);
  assert.match(await allowed.text(), /^# TYPE gitfleet_git_operations_total counter$/m);
});

it('GITFLEET_METRICS=0 serves no /metrics', async () => {
  const off = await startServer({ GITFLEET_METRICS: '0' });
  try {
    const response = await fetch(`${off.url}/metrics`);
    assert.equal(response.status, 404);
  } finally {
    await off.stop();
  }
});
