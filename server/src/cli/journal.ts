import type { Command } from 'commander';
import { RecoveryTargetNotEmpty, checkpointAll, recoverFromJournal, type RecoverySummary } from '@gitfleet/repository';
import { restoreAccounts, snapshotAccounts } from '../operations/accounts-snapshot.js';
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
        'Stop every server first. Accounts are not in the journal (see restore-accounts); hooks and statuses are not restored. ' +
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
          }).catch(refusedAsConflict);
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
    .command('snapshot-accounts')
    .description(
      'copy the accounts (users, organisations, teams, tokens, collaborators) from the KV store to the blob store, in one ' +
        'consistent read; the last 48 snapshots are kept. Run it on a schedule (cron): the last snapshot is the recovery ' +
        'point of accounts after a lost KV store. Safe while servers run',
    )
    .action(async () => {
      await withStores(async ({ stores }) => {
        const { key, entries } = await snapshotAccounts(stores);
        process.stdout.write(`${key}: ${entries} entries\n`);
      });
    });

  journal
    .command('restore-accounts')
    .description(
      'write the newest accounts snapshot (or --snapshot <key>) into a KV store without accounts, after journal recover and ' +
        'before the servers start (a server creates its bootstrap administrator at start-up); exits 4 if accounts exist',
    )
    .option('--snapshot <key>', 'the snapshot to restore, e.g. snapshots/accounts/2026-12-05T114219.123Z-1a2b3c4d.json')
    .option('--force', 'write into an accounts scope that is not empty: the snapshot overwrites the keys it holds')
    .action(async (options: { snapshot?: string; force?: boolean }) => {
      await withStores(async ({ stores }) => {
        const restored = await restoreAccounts(stores, { key: options.snapshot, force: options.force === true }).catch(refusedAsConflict);
        process.stdout.write(`restored ${restored.entries} entries of accounts as of ${restored.time} (${restored.key})\n`);
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

/** A store that holds what a restore would write: exit 4, saying how to write anyway. */
function refusedAsConflict(error: unknown): never {
  if (error instanceof RecoveryTargetNotEmpty) throw conflict(`${error.message}; pass --force to write into it anyway`);
  throw error;
}
