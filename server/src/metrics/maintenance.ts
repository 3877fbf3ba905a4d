import { Counter, Histogram } from 'prom-client';
import type { MaintenanceOutcome } from '../maintenance/outcome.js';
import { metricsRegistry } from './registry.js';

const labelNames = ['kind', 'outcome', 'where'] as const;

const runs = new Counter({
  name: 'gitfleet_maintenance_runs_total',
  help: 'Maintenance runs of repositories by kind (compact, full, collect: only deleted packs past their grace, none), outcome (ok, skipped: another runner held the lease or the repository is gone, failed) and where they ran (in-process, child)',
  labelNames,
  registers: [metricsRegistry],
});

const duration = new Histogram({
  name: 'gitfleet_maintenance_run_duration_seconds',
  help: 'Maintenance runs, from start to end, as the scheduler saw them',
  labelNames,
  buckets: [0.1, 0.5, 1, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200],
  registers: [metricsRegistry],
});

/** Records one run of the scheduler that took `seconds`, and what it came to (or that it threw). */
export function maintenanceRunEnded(seconds: number, outcome: MaintenanceOutcome | 'failed'): void {
  const labels = outcome === 'failed' ? { kind: 'unknown', outcome: 'failed', where: 'unknown' } : runLabels(outcome);
  runs.inc(labels);
  duration.observe(labels, seconds);
}

function runLabels({ ran, report, pid }: MaintenanceOutcome): Record<(typeof labelNames)[number], string> {
  const where = pid === undefined ? 'unknown' : pid === process.pid ? 'in-process' : 'child';
  if (!ran || !report) return { kind: 'none', outcome: 'skipped', where };
  const collectedOnly = report.action === 'none' && report.collected.length + report.orphansCollected.length > 0;
  return { kind: collectedOnly ? 'collect' : report.action, outcome: 'ok', where };
}
