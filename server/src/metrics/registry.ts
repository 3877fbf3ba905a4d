import { Registry } from 'prom-client';
import { ownWorkerSlot } from '../cluster/messages.js';

/** Which process a value is of: its worker slot, "0" outside a cluster (a slot keeps its number when its worker is replaced). */
const PROCESS_LABELS = { worker: String(ownWorkerSlot() ?? 0) } as const;

/**
 * Every metric of this process. In a cluster each worker has its own, and the primary gathers
 * them (cluster.ts). Every series carries the worker's slot: summed across workers, a counter
 * would fall when a worker is replaced, which Prometheus takes for a reset of the whole count.
 */
export const metricsRegistry = new Registry();
metricsRegistry.setDefaultLabels(PROCESS_LABELS);

/** Seconds since `started` (a process.hrtime.bigint() reading). */
export function secondsSince(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}
