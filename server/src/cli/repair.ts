import type { Command } from 'commander';
import type { RepairProgress } from '@gitfleet/storage';
import { formatBytes } from '../format-bytes.js';
import { ProgressLine } from '../progress-line.js';
import { openPlacement } from '../stores.js';
import { configFromEnvironment } from './context.js';
import { CliError, usageError } from './errors.js';

export function registerRepairCommand(program: Command): void {
  program
    .command('repair')
    .description(
      'placement backend: give every blob a copy on each of its preferred stores again (after a store was lost, replaced or added); ' +
        'prints progress on stderr, a summary on stdout, and exits 1 unless every blob has its copies',
    )
    .option('--prefix <prefix>', 'only blobs whose key starts with this (e.g. repos/<id>/)', '')
    .option('--concurrency <n>', 'blobs repaired at once', '4')
    .action(async (options: { prefix: string; concurrency: string }) => {
      const config = configFromEnvironment();
      const concurrency = Number(options.concurrency);
      if (!Number.isSafeInteger(concurrency) || concurrency < 1)
        throw usageError(`--concurrency: expected a positive integer, got ${JSON.stringify(options.concurrency)}`);
      const placement = await openPlacement(config);
      if (!placement)
        throw new CliError(
          `repair needs GITFLEET_BLOB_BACKEND=placement (this one is ${config.blobs.backend}: one store, no copies to restore)`,
        );
      const line = new ProgressLine(process.stderr);
      try {
        const report = await placement.repair({
          prefix: options.prefix,
          concurrency,
          onProgress: (progress) => line.update(`repair: ${describeRepair(progress)}`),
        });
        line.done(`repair: ${describeRepair(report)}`);
        for (const { name, error } of report.unavailableStores)
          process.stderr.write(`gitfleet: store ${name} could not be listed: ${error}\n`);
        for (const { key, error } of report.failures) process.stderr.write(`gitfleet: ${key}: ${error}\n`);
        if (report.failed > report.failures.length)
          process.stderr.write(`gitfleet: … and ${report.failed - report.failures.length} more failed blobs\n`);
        process.stdout.write(`${describeRepair(report)}\n`);
        if (!report.ok) {
          const why =
            report.failed > 0
              ? `${report.failed} blob(s) still lack copies`
              : `${report.unavailableStores.length} store(s) could not be listed`;
          throw new CliError(`repair incomplete: ${why}; run it again once the stores answer`);
        }
      } finally {
        line.interrupt();
        await placement.close();
      }
    });
}

function describeRepair(progress: RepairProgress): string {
  return (
    `${progress.keys} blobs checked: ${progress.healthy} had their copies, ${progress.repaired} repaired ` +
    `(${progress.copies} copies, ${formatBytes(progress.bytesCopied)}), ${progress.failed} failed`
  );
}
