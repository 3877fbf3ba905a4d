import { Counter, Gauge } from 'prom-client';
import type { PlacementRepairOutcome } from '../operations/repair-placement.js';
import { metricsRegistry } from './registry.js';

const runs = new Counter({
  name: 'gitfleet_placement_repair_runs_total',
  help: 'Background placement repairs by outcome: ok, incomplete (blobs still lack copies, a store could not be listed, or cleanup met a failure), failed (the run stopped)',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});

const lastRun = new Gauge({
  name: 'gitfleet_placement_repair_last_run_timestamp_seconds',
  help: 'When the last background placement repair of this process ended (ok or not), in seconds since the epoch',
  registers: [metricsRegistry],
});

const keys = new Counter({
  name: 'gitfleet_placement_repair_keys_total',
  help: 'Blobs the background placement repair examined, by result: healthy (had their copies), repaired, failed (still lack a copy)',
  labelNames: ['result'] as const,
  registers: [metricsRegistry],
});

const copiesMade = new Counter({
  name: 'gitfleet_placement_repair_copies_total',
  help: 'Copies the background placement repair wrote onto preferred stores',
  registers: [metricsRegistry],
});

const copiesRemoved = new Counter({
  name: 'gitfleet_placement_cleanup_copies_removed_total',
  help: 'Copies the background placement cleanup removed from stores no longer preferred',
  registers: [metricsRegistry],
});

const bytesFreed = new Counter({
  name: 'gitfleet_placement_cleanup_bytes_freed_total',
  help: 'Bytes of the copies the background placement cleanup removed',
  registers: [metricsRegistry],
});

const copiesKept = new Counter({
  name: 'gitfleet_placement_cleanup_copies_kept_total',
  help: 'Copies on stores no longer preferred that the background placement cleanup kept, by reason',
  labelNames: ['reason'] as const,
  registers: [metricsRegistry],
});

/** Records one background run that ended with `outcome`, or stopped with an error ('failed'). */
export function placementRepairEnded(outcome: PlacementRepairOutcome | 'failed'): void {
  lastRun.set(Date.now() / 1000);
  if (outcome === 'failed') {
    runs.inc({ outcome: 'failed' });
    return;
  }
  const { repair, cleanup, ok } = outcome;
  runs.inc({ outcome: ok ? 'ok' : 'incomplete' });
  keys.inc({ result: 'healthy' }, repair.healthy);
  keys.inc({ result: 'repaired' }, repair.repaired);
  keys.inc({ result: 'failed' }, repair.failed);
  copiesMade.inc(repair.copies);
  if (!cleanup) return;
  copiesRemoved.inc(cleanup.removed);
  bytesFreed.inc(cleanup.bytesFreed);
  for (const [reason, count] of Object.entries(cleanup.keptBecause)) copiesKept.inc({ reason }, count);
}
