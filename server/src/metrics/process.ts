import { performance } from 'node:perf_hooks';
import { collectDefaultMetrics, Gauge } from 'prom-client';
import { metricsRegistry, PROCESS_LABELS } from './registry.js';

let collecting = false;

/**
 * prom-client's default metrics (CPU, memory, heap, GC, event-loop lag as nodejs_eventloop_lag_*)
 * under their standard names, which the usual Node.js dashboards and alerts query; each carries the
 * worker label, so the cluster primary keeps one series per worker instead of adding lags up.
 * Besides, how busy each process's event loop was between two scrapes.
 */
export function collectProcessMetrics(): void {
  if (collecting) return;
  collecting = true;
  collectDefaultMetrics({ register: metricsRegistry, labels: PROCESS_LABELS });
  let previous = performance.eventLoopUtilization();
  new Gauge({
    name: 'gitfleet_event_loop_utilization',
    help: "Share (0..1) of the time since the previous scrape this process's event loop was busy",
    labelNames: ['worker'] as const,
    registers: [metricsRegistry],
    collect() {
      const now = performance.eventLoopUtilization();
      this.set(PROCESS_LABELS, performance.eventLoopUtilization(now, previous).utilization);
      previous = now;
    },
  });
}
