import { Counter, Gauge } from 'prom-client';
import type { PoolStats } from '@gitfleet/browse';
import type { DeadLetterChange, QueueDepth } from '@gitfleet/events';
import type { PackChecks } from '@gitfleet/protocol';
import { metricsRegistry } from './registry.js';

interface QueueStats {
  running: number;
  queued: number;
}

/** Read at each scrape, by name. A later source of the same name replaces the earlier (one server per process). */
const queues = new Map<string, { stats(): QueueStats }>();
const pools = new Map<string, { stats(): PoolStats }>();

/** A gauge of one value per watched source, read from its stats at each scrape. */
function statsGauge<T>(
  name: string,
  help: string,
  label: 'queue' | 'pool',
  sources: Map<string, { stats(): T }>,
  value: (stats: T) => number,
): void {
  new Gauge({
    name,
    help,
    labelNames: [label],
    registers: [metricsRegistry],
    collect() {
      this.reset();
      for (const [source, watched] of sources) this.set({ [label]: source }, value(watched.stats()));
    },
  });
}

statsGauge(
  'gitfleet_queue_running',
  'Work admitted and running: pushes indexing (pack-index) or holding a push slot (push-slots), tasks of the browsing pools, password checks, repositories being maintained',
  'queue',
  queues,
  (stats) => stats.running,
);
statsGauge('gitfleet_queue_waiting', 'Work waiting for a thread, a turn or a slot', 'queue', queues, (stats) => stats.queued);
statsGauge(
  'gitfleet_worker_pool_threads',
  'Threads alive in a worker-thread pool of a process (they start on demand and stop when idle)',
  'pool',
  pools,
  (stats) => stats.threads,
);
statsGauge(
  'gitfleet_worker_pool_utilization',
  "Share (0..1) of a worker-thread pool's capacity spent running tasks since the pool started (piscina's utilization)",
  'pool',
  pools,
  (stats) => stats.utilization,
);

let packIndexing: { stats(): { checks: PackChecks } } | undefined;

new Counter({
  name: 'gitfleet_pack_checks_total',
  help:
    'Pushed packs indexed and checked by this process, by where: on the event loop (a pack that asks for little work) or on an index thread. ' +
    'over_inline_cap counts those of the thread ones that were tried on the event loop first and asked for more than its cap',
  labelNames: ['on'] as const,
  registers: [metricsRegistry],
  collect() {
    this.reset();
    const checks = packIndexing?.stats().checks;
    if (!checks) return;
    this.inc({ on: 'event_loop' }, checks.eventLoop);
    this.inc({ on: 'thread' }, checks.thread);
    this.inc({ on: 'over_inline_cap' }, checks.overInlineCap);
  },
});

/** The pack index pool: its queue, its threads, and where it checked packs. */
export function watchPackIndexing(source: { stats(): PoolStats & { checks: PackChecks } }): void {
  watchWorkerPool('pack-index', source);
  packIndexing = source;
}

let webhookQueues: { queueDepths(): Promise<Record<string, QueueDepth>> } | undefined;

new Gauge({
  name: 'gitfleet_webhook_jobs',
  help: 'Jobs of the webhook queues (ref-events: pushes to expand into deliveries; deliveries) not finished, by state: due, delayed (a delay or a retry backoff), running. The queues are shared by every server process: one process of each machine reports them',
  labelNames: ['queue', 'state'],
  registers: [metricsRegistry],
  async collect() {
    this.reset();
    // A queue that cannot be read (Redis away) leaves the gauge empty rather than failing the scrape.
    const depths: Record<string, QueueDepth> = (await webhookQueues?.queueDepths().catch(() => undefined)) ?? {};
    for (const [queue, { due, delayed, running }] of Object.entries(depths)) {
      this.set({ queue, state: 'due' }, due);
      this.set({ queue, state: 'delayed' }, delayed);
      this.set({ queue, state: 'running' }, running);
    }
  },
});

const deadLetters = new Counter({
  name: 'gitfleet_webhook_dead_letters_total',
  help:
    'Changes of the dead-letter lists (deliveries failed for good, kept per hook for replay) made by this process: ' +
    'added, replayed (a redelivery succeeded), discarded (by their owner), evicted (the oldest, beyond GITFLEET_HOOK_DEAD_LETTERS_KEEP). ' +
    'Summed over processes, added minus the others is the number of dead letters waiting',
  labelNames: ['change'] as const,
  registers: [metricsRegistry],
});

/** Counts changes of the dead-letter lists (WebhookServiceOptions.onDeadLetter). */
export function countDeadLetters(change: DeadLetterChange, count: number): void {
  deadLetters.inc({ change }, count);
}

/** The webhook queues, read at each scrape. */
export function watchWebhookQueues(source: { queueDepths(): Promise<Record<string, QueueDepth>> }): void {
  webhookQueues = source;
}

export function watchQueue(name: string, source: { stats(): QueueStats }): void {
  queues.set(name, source);
}

/** A worker-thread pool: its queue, its threads and its utilisation. */
export function watchWorkerPool(name: string, source: { stats(): PoolStats }): void {
  queues.set(name, source);
  pools.set(name, source);
}
