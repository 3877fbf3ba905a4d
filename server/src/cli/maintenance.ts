import { mkdir } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { lowerProcessPriority } from '@gitfleet/git-format';
import {
  chooseMaintenance,
  collectDeletedRepositories,
  DEFAULT_MAINTENANCE_POLICY,
  maintenanceUnderWay,
  type MaintenanceProgress,
  type MaintenanceReport,
} from '@gitfleet/repository';
import { formatBytes } from '../format-bytes.js';
import { maintain } from '../operations/maintain-repository.js';
import { ProgressLine } from '../progress-line.js';
import { spoolDirectory } from '../stores.js';
import { withStores } from './context.js';
import { CliError, EXIT, notFound, usageError } from './errors.js';
import { parseFullName } from './full-name.js';
import { printJson, printTable, shortTime } from './output.js';

interface MaintenanceRunOptions {
  full?: boolean;
  compact?: boolean;
  json?: boolean;
  expectId?: string;
  background?: boolean;
}

export function registerMaintenanceCommands(program: Command): void {
  const maintenance = program
    .command('maintenance')
    .description("keep a repository's packs few and fast: geometric compaction, full repacks with bitmaps, collection of replaced packs");

  maintenance
    .command('run')
    .description(
      'maintain one repository now, as the server does by itself after pushes (waits for no one: if another server holds ' +
        "the repository's maintenance lease, says so and exits 1); progress on stderr, a summary on stdout",
    )
    .argument('<owner/name>', 'e.g. alice/hello')
    .option('--full', 'repack everything into one pack in clone order, with its bitmap, whether or not it pays')
    .option('--compact', 'only merge small packs into larger ones (geometric compaction), whether or not it pays')
    .option('--json', 'print the report as JSON (also when another server holds the lease: a report of a run that did nothing)')
    // The server's background runs name the repository by id too: one renamed meanwhile, whose name
    // another repository took, is then "not found" rather than that other repository.
    .addOption(new Option('--expect-id <id>', 'exit 3 unless the repository has this id').hideHelp())
    // The server's background runs give the cores to the requests it serves first: a repack of a
    // large repository holds a core for seconds, and the pushes and fetches beside it are waited on.
    // They are automatic runs too (MaintainRequest.automatic).
    .addOption(
      new Option(
        '--background',
        'a run the server started: at background priority (nice 10), every thread; orphans listed when due',
      ).hideHelp(),
    )
    .action(async (fullName: string, options: MaintenanceRunOptions) => {
      if (options.full && options.compact) throw usageError('--full and --compact exclude each other');
      if (options.background) lowerProcessPriority();
      const { owner, name } = parseFullName(fullName);
      await withStores(async ({ registry, config }) => {
        const repo = await registry.open(owner, name);
        if (!repo) throw notFound(`repository ${owner}/${name} not found`);
        if (options.expectId !== undefined && repo.info.id !== options.expectId)
          throw notFound(`repository ${owner}/${name} is no longer ${options.expectId} (renamed meanwhile?)`);
        const tmpDir = spoolDirectory(config);
        await mkdir(tmpDir, { recursive: true });
        // Progress is best-effort: when its reader is gone (the server that started this run died),
        // the run goes on to its end and releases the lease, instead of dying with the lease held.
        process.stderr.on('error', () => {});
        process.stdout.on('error', () => {});
        const line = new ProgressLine(process.stderr);
        // A server's run may get a signal twice at once (a service manager signals the server and
        // its child together, then the server signals the child): only the server's SIGKILL ends it early.
        const stop = stopOnSignals({ exitOnSecond: options.expectId === undefined });
        let report: MaintenanceReport;
        try {
          report = await maintain(repo, config.maintenance, tmpDir, {
            mode: options.full ? 'full' : options.compact ? 'compact' : 'auto',
            automatic: options.background,
            signal: stop.signal,
            onProgress: (event) => line.update(`maintenance: ${describeProgress(event)}`),
          });
        } catch (error) {
          if (stop.signal.aborted) throw new CliError(`maintenance of ${owner}/${name} stopped (${(stop.signal.reason as Error).message})`);
          throw error;
        } finally {
          stop.dispose();
          line.interrupt();
        }
        if (!report.ran) {
          if (options.json) printJson(report);
          throw new CliError(`another server is maintaining ${owner}/${name} now (it holds the lease); try again later`);
        }
        if (options.json) return printJson(report);
        process.stdout.write(`${describeReport(report)}\n`);
      });
    });

  maintenance
    .command('status')
    .description(
      "a repository's packs (those reads use; replaced ones wait out their grace period unlisted) and what maintenance would do next",
    )
    .argument('<owner/name>', 'e.g. alice/hello')
    .option('--json', 'print JSON')
    .action(async (fullName: string, options: { json?: boolean }) => {
      const { owner, name } = parseFullName(fullName);
      await withStores(async ({ registry }) => {
        const repo = await registry.open(owner, name);
        if (!repo) throw notFound(`repository ${owner}/${name} not found`);
        const packs = await repo.packs.list();
        const retired = await repo.packs.retired();
        const next = chooseMaintenance(packs, DEFAULT_MAINTENANCE_POLICY).action;
        const running = (await maintenanceUnderWay(repo)) ?? null;
        if (options.json) return printJson({ packs, retired, next, running });
        printTable(
          ['pack', 'kind', 'objects', 'size', 'created', 'replaced'],
          [...packs, ...retired].map((pack) => ({
            pack: pack.checksum,
            kind: pack.kind,
            objects: String(pack.objects),
            size: formatBytes(pack.size),
            created: shortTime(pack.createdAt),
            replaced: shortTime(pack.retiredAt),
          })),
          'no packs (an empty repository)',
        );
        const objects = packs.reduce((sum, pack) => sum + pack.objects, 0);
        process.stdout.write(
          `${packs.length} packs, ${objects} objects (${retired.length} replaced packs in their grace period); next: ${next}\n` +
            (running ? `running now: ${running.holder} (its lease runs until ${shortTime(running.expiresAt)})\n` : ''),
        );
      });
    });

  maintenance
    .command('collect-deleted')
    .description(
      'remove the blobs (packs, journal) of repositories deleted longer than the grace period (GITFLEET_PACK_GRACE_SECONDS) ago, ' +
        "as the server's periodic sweep does",
    )
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      await withStores(async ({ registry, stores, config }) => {
        const outcome = await collectDeletedRepositories(registry, stores.blobs, { graceMs: config.maintenance.graceSeconds * 1000 });
        if (options.json) return printJson(outcome);
        process.stdout.write(
          `${outcome.collected} deleted repositories collected (${outcome.blobs} blobs, ${formatBytes(outcome.bytes)}); ` +
            `${outcome.waiting} within their grace period\n`,
        );
      });
    });
}

/**
 * SIGTERM and SIGINT (a server shutting down, Ctrl-C) abort the run: it publishes nothing and
 * releases the repository's lease, which would otherwise keep every server out until it expires.
 * With `exitOnSecond`, a second signal exits at once (a person pressing Ctrl-C again).
 */
function stopOnSignals({ exitOnSecond }: { exitOnSecond: boolean }): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      if (exitOnSecond) process.exit(EXIT.failure);
      return;
    }
    controller.abort(new Error(`${signal} received`));
  };
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
  for (const signal of signals) process.on(signal, onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      for (const signal of signals) process.off(signal, onSignal);
    },
  };
}

function describeProgress(event: MaintenanceProgress): string {
  const counted = event.total ? ` ${event.done ?? 0}/${event.total} objects` : '';
  return `${event.action} — ${event.phase}${counted}`;
}

function describeReport(report: MaintenanceReport): string {
  const lfs =
    report.lfs.collected.length > 0 || report.lfs.sighted.length > 0 || report.lfs.abandonedUploads > 0
      ? describeLfsCollection(report)
      : '';
  if (report.action === 'none' && report.collected.length === 0 && report.orphansCollected.length === 0)
    return `nothing to do (${report.packsAfter} packs)${lfs}`;
  return (
    `${report.action === 'none' ? 'no repack' : report.action}: ${report.packsBefore} → ${report.packsAfter} packs, ` +
    `${report.objectsWritten} objects written, ${report.retired.length} packs replaced, ` +
    `${report.collected.length} replaced and ${report.orphansCollected.length} orphaned packs deleted${lfs}, ${(report.durationMs / 1000).toFixed(1)} s`
  );
}

function describeLfsCollection({ lfs }: MaintenanceReport): string {
  const abandoned = lfs.abandonedUploads > 0 ? `, ${lfs.abandonedUploads} abandoned uploads deleted` : '';
  return `; LFS objects: ${lfs.collected.length} unreferenced deleted, ${lfs.sighted.length} newly unreferenced (kept for the grace period)${abandoned}`;
}
