import cluster from 'node:cluster';
import { Registry } from 'prom-client';

/**
 * Every metric of this process. In a cluster each worker has its own; the primary adds them up
 * (cluster.ts), so a metric that must not be summed across workers carries PROCESS_LABELS.
 */
export const metricsRegistry = new Registry();

/** Which process a per-process value (event-loop lag, utilisation) is of: its cluster worker id, "0" outside a cluster. */
export const PROCESS_LABELS = { worker: String(cluster.worker?.id ?? 0) } as const;

/** Seconds since `started` (a process.hrtime.bigint() reading). */
export function secondsSince(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}
