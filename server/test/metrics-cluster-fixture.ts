/**
 * A real node:cluster for metrics-cluster.test.ts: the primary forks two workers (slots 0 and 1,
 * as Gitfleet's primary does), each adds its INCREMENT to a counter and sets a gauge, then the first worker reads the machine's
 * metrics as GET /metrics would and the primary prints what it got as one JSON line.
 * `silent-primary`: the primary does not answer metrics requests.
 */
import cluster, { type Worker } from 'node:cluster';
import { Counter, Gauge } from 'prom-client';
import { answerMetricsRequestsInPrimary, machineMetrics, reportMetricsToPrimary } from '../src/metrics/cluster.js';
import { metricsRegistry } from '../src/metrics/registry.js';

const SILENT_PRIMARY = process.argv[2] === 'silent-primary';
/** Short only for the silent primary, whose worker must give up; the answering primary is given the default. */
const SILENT_PRIMARY_TIMEOUT_MS = 500;

interface Scraped {
  type: 'scraped';
  contentType?: string;
  body?: string;
  error?: string;
}

/** The next message of `worker` that `accept`s; the worker also carries the metrics requests and answers. */
function nextMessage(worker: Worker, accept: (message: unknown) => boolean): Promise<unknown> {
  return new Promise((resolve) => {
    const onMessage = (message: unknown) => {
      if (!accept(message)) return;
      worker.off('message', onMessage);
      resolve(message);
    };
    worker.on('message', onMessage);
  });
}

if (cluster.isPrimary) {
  if (!SILENT_PRIMARY) answerMetricsRequestsInPrimary();
  const workers = [
    cluster.fork({ INCREMENT: '3', GITFLEET_WORKER_SLOT: '0' }),
    cluster.fork({ INCREMENT: '4', GITFLEET_WORKER_SLOT: '1' }),
  ];
  await Promise.all(workers.map((worker) => nextMessage(worker, (message) => message === 'ready')));
  const scraped = nextMessage(workers[0], (message) => (message as Scraped | undefined)?.type === 'scraped') as Promise<Scraped>;
  workers[0].send('scrape');
  const result = await scraped;
  process.stdout.write(`${JSON.stringify(result)}\n`);
  for (const worker of workers) worker.disconnect();
} else {
  reportMetricsToPrimary();
  new Counter({ name: 'fixture_pushes_total', help: 'one series per worker', registers: [metricsRegistry] }).inc(
    Number(process.env.INCREMENT),
  );
  new Gauge({ name: 'fixture_lag_seconds', help: 'one per worker', registers: [metricsRegistry] }).set(Number(process.env.INCREMENT) / 100);
  process.on('message', (message) => {
    if (message !== 'scrape') return;
    machineMetrics(SILENT_PRIMARY ? SILENT_PRIMARY_TIMEOUT_MS : undefined).then(
      ({ contentType, body }) => process.send!({ type: 'scraped', contentType, body } satisfies Scraped),
      (error: unknown) => process.send!({ type: 'scraped', error: (error as Error).message } satisfies Scraped),
    );
  });
  process.send!('ready');
}
