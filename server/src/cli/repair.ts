import { hostname } from 'node:os';
import type { Command } from 'commander';
import type { CleanupProgress, RepairProgress } from '@gitfleet/storage';
import { formatBytes } from '../format-bytes.js';
import { acceptFleetLayout, checkFleetLayout, layoutRefusal } from '../maintenance/placement-layout.js';
import { DEFAULT_PLACEMENT_REPAIR_LEASE_MS, removalGuard, underPlacementRepairLease } from '../maintenance/placement-repair-lease.js';
import { repairPlacement, type PlacementRepairOutcome } from '../operations/repair-placement.js';
import { ProgressLine } from '../progress-line.js';
import { withStores } from './context.js';
import { CliError, usageError } from './errors.js';

interface RepairFlags {
  prefix: string;
  concurrency: string;
  cleanup?: boolean;
  dryRun?: boolean;
  minAge?: string;
  unsafeMinAge?: boolean;
  acceptLayout?: boolean;
}

export function registerRepairCommand(program: Command): void {
  program
    .command('repair')
    .description(
      'placement backend: give every blob a copy on each of its preferred stores again (after a store was lost, replaced or added); ' +
        "with --cleanup, then remove the copies on stores no longer preferred. Holds the fleet-wide lease the servers' background " +
        'repair takes (refuses while one runs); prints progress on stderr, a summary on stdout, and exits 1 unless every blob has its copies',
    )
    .option('--prefix <prefix>', 'only blobs whose key starts with this (e.g. repos/<id>/)', '')
    .option('--concurrency <n>', 'blobs repaired at once', '4')
    .option(
      '--cleanup',
      "after repairing, remove each copy outside its blob's preferred stores once every preferred store holds a copy of the same bytes, older than --min-age",
    )
    .option(
      '--min-age <seconds>',
      'how old the preferred copies must be for --cleanup (default: GITFLEET_PACK_GRACE_SECONDS, longer than any push); ' +
        'at least 2 × stores × GITFLEET_PLACEMENT_WRITE_TIMEOUT_MS + 5 min, the longest a write may run (the default is raised to it)',
    )
    .option('--unsafe-min-age', 'accept a --min-age below that floor: copies a running write makes may then be deleted')
    .option(
      '--accept-layout',
      "record this process's stores and replicas as the fleet's placement layout (after changing them on every server); " +
        'cleanup, here and in the servers, runs only where the layout is the recorded one',
    )
    .option('--dry-run', 'count what would be copied and removed; change nothing')
    .action((flags: RepairFlags) =>
      withStores(async ({ config, stores }) => {
        const concurrency = integerAtLeast('--concurrency', flags.concurrency, 1);
        if (flags.minAge !== undefined && !flags.cleanup) throw usageError('--min-age applies to --cleanup only');
        if (flags.unsafeMinAge && flags.minAge === undefined) throw usageError('--unsafe-min-age applies to --min-age only');
        const placement = stores.placement;
        if (!placement)
          throw new CliError(
            `repair needs GITFLEET_BLOB_BACKEND=placement (this one is ${config.blobs.backend}: one store, no copies to restore)`,
          );
        const floorMs = placement.cleanupAgeFloorMs;
        const minAgeMs =
          flags.minAge === undefined
            ? Math.max(config.maintenance.graceSeconds * 1000, floorMs)
            : integerAtLeast('--min-age', flags.minAge, 0) * 1000;
        if (minAgeMs < floorMs && !flags.unsafeMinAge)
          throw usageError(
            `--min-age ${flags.minAge} is below ${Math.ceil(floorMs / 1000)} s, the longest a write to ${placement.layout.stores.length} stores ` +
              'may run plus clock skew (a copy it made could still be undone); --unsafe-min-age accepts it',
          );
        const line = new ProgressLine(process.stderr);
        const verb = flags.dryRun ? 'repair (dry run)' : 'repair';
        try {
          const held = await underPlacementRepairLease(
            stores.kv,
            `${hostname()}:${process.pid} (gitfleet repair)`,
            DEFAULT_PLACEMENT_REPAIR_LEASE_MS,
            undefined,
            async (lease, signal) => {
              // Under the lease, so that no run cleans by the layout being replaced.
              // A dry run with --accept-layout counts as if the layout were accepted, and records nothing.
              if (flags.acceptLayout) {
                if (!flags.dryRun) await acceptFleetLayout(stores.kv, placement.layout);
              } else if (flags.cleanup) {
                const refusal = layoutRefusal(
                  placement.layout,
                  await checkFleetLayout(stores.kv, placement.layout, { recordIfAbsent: false }),
                );
                if (refusal) throw new CliError(`cleanup refused: ${refusal}`);
              }
              return repairPlacement(placement, {
                prefix: flags.prefix,
                concurrency,
                signal,
                cleanup: flags.cleanup ?? false,
                dryRun: flags.dryRun ?? false,
                cleanupMinAgeMs: minAgeMs,
                unsafeMinAge: flags.unsafeMinAge,
                beforeDelete: removalGuard(lease),
                onRepairProgress: (progress) => line.update(`${verb}: ${describeRepair(progress)}`),
                onCleanupProgress: (progress) => line.update(`cleanup: ${describeCleanup(progress)}`),
              });
            },
          );
          if (!held)
            throw new CliError(
              "another repair is running (a server's background job, or another `gitfleet repair`); try again once it ends",
            );
          report(held.result, line, verb);
        } finally {
          line.interrupt();
        }
      }),
    );
}

function integerAtLeast(flag: string, raw: string, min: number): number {
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min)
    throw usageError(`${flag}: expected an integer of at least ${min}, got ${JSON.stringify(raw)}`);
  return value;
}

function report({ repair, cleanup, ok }: PlacementRepairOutcome, line: ProgressLine, verb: string): void {
  line.done(`${verb}: ${describeRepair(repair)}`);
  if (cleanup) line.done(`cleanup: ${describeCleanup(cleanup)}`);
  for (const { name, error } of [...repair.unavailableStores, ...(cleanup?.unavailableStores ?? [])])
    process.stderr.write(`gitfleet: store ${name} could not be listed: ${error}\n`);
  for (const { key, error } of repair.failures) process.stderr.write(`gitfleet: ${key}: ${error}\n`);
  if (repair.failed > repair.failures.length)
    process.stderr.write(`gitfleet: … and ${repair.failed - repair.failures.length} more failed blobs\n`);
  for (const { key, store, error } of cleanup?.failures ?? []) process.stderr.write(`gitfleet: ${key} on ${store}: ${error}\n`);
  process.stdout.write(`${describeRepair(repair)}\n`);
  if (cleanup) process.stdout.write(`${describeCleanup(cleanup)}\n`);
  if (ok) return;
  const why =
    repair.failed > 0
      ? `${repair.failed} blob(s) still lack copies`
      : repair.unavailableStores.length > 0 || (cleanup?.unavailableStores.length ?? 0) > 0
        ? 'a store could not be listed'
        : `cleanup met ${cleanup?.failures.length ?? 0} failure(s)`;
  throw new CliError(`repair incomplete: ${why}; run it again once the stores answer`);
}

function describeRepair(progress: RepairProgress): string {
  return (
    `${progress.keys} blobs checked: ${progress.healthy} had their copies, ${progress.repaired} repaired ` +
    `(${progress.copies} copies, ${formatBytes(progress.bytesCopied)}), ${progress.failed} failed`
  );
}

function describeCleanup(progress: CleanupProgress): string {
  const reasons = Object.entries(progress.keptBecause)
    .filter(([, count]) => count > 0)
    .map(([reason, count]) => `${count} ${reason}`);
  return (
    `${progress.keys} blobs checked: ${progress.extraCopies} copies outside their preferred stores, ${progress.removed} removed ` +
    `(${formatBytes(progress.bytesFreed)}), ${progress.kept} kept${reasons.length > 0 ? ` (${reasons.join(', ')})` : ''}`
  );
}
