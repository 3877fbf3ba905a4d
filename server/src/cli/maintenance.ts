import { mkdir } from 'node:fs/promises';
import type { Command } from 'commander';
import { chooseMaintenance, DEFAULT_MAINTENANCE_POLICY, type MaintenanceProgress, type MaintenanceReport } from '@gitfleet/repository';
import { formatBytes } from '../format-bytes.js';
import { maintain } from '../operations/maintain-repository.js';
import { ProgressLine } from '../progress-line.js';
import { spoolDirectory } from '../stores.js';
import { withStores } from './context.js';
import { CliError, notFound, usageError } from './errors.js';
import { parseFullName } from './full-name.js';
import { printJson, printTable, shortTime } from './output.js';

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
    .option('--json', 'print the report as JSON')
    .action(async (fullName: string, options: { full?: boolean; compact?: boolean; json?: boolean }) => {
      if (options.full && options.compact) throw usageError('--full and --compact exclude each other');
      const { owner, name } = parseFullName(fullName);
      await withStores(async ({ registry, config }) => {
        const repo = await registry.open(owner, name);
        if (!repo) throw notFound(`repository ${owner}/${name} not found`);
        const tmpDir = spoolDirectory(config);
        await mkdir(tmpDir, { recursive: true });
        const line = new ProgressLine(process.stderr);
        let report: MaintenanceReport;
        try {
          report = await maintain(repo, config.maintenance, tmpDir, {
            mode: options.full ? 'full' : options.compact ? 'compact' : 'auto',
            onProgress: (event) => line.update(`maintenance: ${describeProgress(event)}`),
          });
        } finally {
          line.interrupt();
        }
        if (!report.ran) throw new CliError(`another server is maintaining ${owner}/${name} now (it holds the lease); try again later`);
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
        if (options.json) return printJson({ packs, retired, next });
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
          `${packs.length} packs, ${objects} objects (${retired.length} replaced packs in their grace period); next: ${next}\n`,
        );
      });
    });
}

function describeProgress(event: MaintenanceProgress): string {
  const counted = event.total ? ` ${event.done ?? 0}/${event.total} objects` : '';
  return `${event.action} — ${event.phase}${counted}`;
}

function describeReport(report: MaintenanceReport): string {
  if (report.action === 'none' && report.collected.length === 0 && report.orphansCollected.length === 0)
    return `nothing to do (${report.packsAfter} packs)`;
  return (
    `${report.action === 'none' ? 'no repack' : report.action}: ${report.packsBefore} → ${report.packsAfter} packs, ` +
    `${report.objectsWritten} objects written, ${report.retired.length} packs replaced, ` +
    `${report.collected.length} replaced and ${report.orphansCollected.length} orphaned packs deleted, ${(report.durationMs / 1000).toFixed(1)} s`
  );
}
