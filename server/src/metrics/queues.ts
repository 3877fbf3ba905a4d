import { Gauge } from 'prom-client';
import type { PoolStats } from '@gitfleet/browse';
import { metricsRegistry, PROCESS_LABELS } from './registry.js';

interface QueueStats {
  running: number;
  queued: number;
}

/** Read at each scrape, by name. A later source of the same name replaces the earlier (one server per process). */
const queues = new Map<string, { stats(): QueueStats }>();
const pools = new Map<string, { stats(): PoolStats }>();

new Gauge({
  name: 'gitfleet_queue_running',
  help: 'Work admitted and running: pushes indexing (pack-index) or holding a push slot (push-slots), tasks of the browsing pools, password checks, repositories being maintained',
  labelNames: ['queue'] as const,
  registers: [metricsRegistry],
  collect() {
    this.reset();
    for (const [queue, source] of queues) this.set({ queue }, source.stats().running);
  },
});

new Gauge({
  name: 'gitfleet_queue_waiting',
  help: 'Work waiting for a thread, a turn or a slot',
  labelNames: ['queue'] as const,
  registers: [metricsRegistry],
  collect() {
    this.reset();
    for (const [queue, source] of queues) this.set({ queue }, source.stats().queued);
  },
});

new Gauge({
  name: 'gitfleet_worker_pool_threads',
  help: 'Threads alive in a worker-thread pool of a process (they start on demand and stop when idle)',
  labelNames: ['pool', 'worker'] as const,
  registers: [metricsRegistry],
  collect() {
    this.reset();
    for (const [pool, source] of pools) this.set({ pool, ...PROCESS_LABELS }, source.stats().threads);
  },
});

new Gauge({
  name: 'gitfleet_worker_pool_utilization',
  help: "Share (0..1) of a worker-thread pool's capacity spent running tasks since the pool started (piscina's utilization)",
  labelNames: ['pool', 'worker'] as const,
  registers: [metricsRegistry],
  collect() {
    this.reset();
    for (const [pool, source] of pools) this.set({ pool, ...PROCESS_LABELS }, source.stats().utilization);
  },
});

export function watchQueue(name: string, source: { stats(): QueueStats }): void {
  queues.set(name, source);
}

/** A worker-thread pool: its queue, its threads and its utilisation. */
export function watchWorkerPool(name: string, source: { stats(): PoolStats }): void {
  queues.set(name, source);
  pools.set(name, source);
}
