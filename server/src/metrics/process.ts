import { performance } from 'node:perf_hooks';
import { collectDefaultMetrics, Gauge } from 'prom-client';
import { metricsRegistry } from './registry.js';

let collecting = false;

/**
 * How often the event loop's lag is sampled. prom-client's default of 10 ms wakes an idle process
 * a hundred times a second, about 2 ms of CPU every second it idles; at 100 ms a lag of more than
 * that still shows in full, and the quantiles still rest on ten samples a second.
 */
const EVENT_LOOP_SAMPLE_MS = 100;

/**
 * prom-client's default metrics (CPU, memory, heap, GC, event-loop lag as nodejs_eventloop_lag_*)
 * under their standard names, which the usual Node.js dashboards and alerts query (the registry
 * labels each with its worker). Besides, how busy each process's event loop was between two scrapes.
 */
export function collectProcessMetrics(): void {
  if (collecting) return;
  collecting = true;
  collectDefaultMetrics({ register: metricsRegistry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  let previous = performance.eventLoopUtilization();
  new Gauge({
    name: 'gitfleet_event_loop_utilization',
    help: "Share (0..1) of the time since the previous scrape this process's event loop was busy",
    registers: [metricsRegistry],
    collect() {
      const now = performance.eventLoopUtilization();
      this.set(performance.eventLoopUtilization(now, previous).utilization);
      previous = now;
    },
  });
}
