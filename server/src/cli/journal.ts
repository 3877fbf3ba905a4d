import type { Command } from 'commander';
import { RecoveryTargetNotEmpty, checkpointAll, recoverFromJournal, type RecoverySummary } from '@gitfleet/repository';
import { ProgressLine } from '../progress-line.js';
import { withStores } from './context.js';
import { conflict } from './errors.js';
import { printJson } from './output.js';

export function registerJournalCommands(program: Command): void {
  const journal = program
    .command('journal')
    .description(
      'the ref journal in the blob store: every ref change and every change of the repository registry, written before it is ' +
        'acknowledged, from which a lost KV store is rebuilt',
    );

  journal
    .command('recover')
    .description(
      'rebuild into an EMPTY KV store, from the blob store alone, the repository registry, every ref, HEAD and each ' +
        "repository's pack registry (from the journal's newest checkpoints and the entries after them, and the packs stored). " +
        'Stop every server first. Accounts, organisations, tokens, hooks and statuses are not in the journal. ' +
        'Progress on stderr, a summary on stdout; exits 4 if the KV store is not empty',
    )
    .option('--force', 'write into a KV store that is not empty: keys recovery writes are overwritten, other keys are left as they are')
    .option('--json', 'print the summary as JSON')
    .action(async (options: { force?: boolean; json?: boolean }) => {
      await withStores(async ({ stores }) => {
        const line = new ProgressLine(process.stderr);
        let summary: RecoverySummary;
        try {
          summary = await recoverFromJournal(stores, {
            force: options.force === true,
            onProgress: ({ repositoriesDone, repositoriesTotal }) =>
              line.update(`recover: ${repositoriesDone}/${repositoriesTotal} repositories`),
          });
        } catch (error) {
          if (error instanceof RecoveryTargetNotEmpty) throw conflict(`${error.message}; pass --force to write into it anyway`);
          throw error;
        } finally {
          line.interrupt();
        }
        line.done(`recover: ${summary.repositories}/${summary.repositories} repositories`);
        if (options.json) return printJson(summary);
        for (const { repository, seq } of summary.gaps) {
          process.stderr.write(
            `gitfleet: ${repository ?? 'the registry'}: transaction ${seq} has no journal entry (never acknowledged), skipped\n`,
          );
        }
        for (const name of summary.withoutJournal) {
          process.stderr.write(`gitfleet: ${name}: no journal (created before journaling began?): empty, HEAD refs/heads/main\n`);
        }
        process.stdout.write(
          `recovered ${summary.repositories} repositories: ${summary.refs} refs, ${summary.packs} packs ` +
            `(${summary.checkpointsRead} checkpoints and ${summary.entriesRead} journal entries read, ${summary.gaps.length} gaps)\n`,
        );
      });
    });

  journal
    .command('checkpoint')
    .description(
      'write a checkpoint of the registry and of every repository now: brings repositories created before journaling began ' +
        'under the journal (run it once after upgrading), and shortens the next recovery. Safe while servers run',
    )
    .action(async () => {
      await withStores(async ({ stores }) => {
        const line = new ProgressLine(process.stderr);
        try {
          const { repositories } = await checkpointAll(stores, ({ repositoriesDone, repositoriesTotal }) =>
            line.update(`checkpoint: ${repositoriesDone}/${repositoriesTotal} repositories`),
          );
          line.done(`checkpoint: ${repositories}/${repositories} repositories`);
          process.stdout.write(`checkpointed the registry and ${repositories} repositories\n`);
        } finally {
          line.interrupt();
        }
      });
    });
}
