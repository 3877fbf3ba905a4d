import type { Command } from 'commander';
import { RecoveryTargetNotEmpty, checkpointAll, recoverFromJournal, type RecoverySummary } from '@gitfleet/repository';
import { restoreSnapshot, writeSnapshot } from '../operations/kv-snapshot.js';
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
        "repository's pack registry (from the journal's newest checkpoints and the entries after them, and the packs stored), " +
        'its Git LFS object records and locks (from the LFS objects and lock copies stored). ' +
        'Stop every server first. Accounts, webhooks and statuses are not in the journal (see snapshot, restore-snapshot). ' +
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
        for (const { repository, lock, heldBy } of summary.lfsLockConflicts) {
          process.stderr.write(
            `gitfleet: ${repository}: LFS lock ${lock.id} on ${lock.path} (${lock.owner}, ${lock.lockedAt}) not restored: ` +
              `lock ${heldBy.id} on ${heldBy.path} (${heldBy.owner}, ${heldBy.lockedAt}) holds the same file and is older\n`,
          );
        }
        process.stdout.write(
          `recovered ${summary.repositories} repositories: ${summary.refs} refs, ${summary.packs} packs, ` +
            `${summary.lfsObjects} LFS objects (${summary.lfsBytes} bytes), ${summary.lfsLocks} LFS locks ` +
            `(${summary.checkpointsRead} checkpoints and ${summary.entriesRead} journal entries read, ${summary.gaps.length} gaps)\n`,
        );
      });
    });

  journal
    .command('snapshot')
    .description(
      'copy what only the KV store holds besides refs (accounts: users, passwords, organisations, teams, tokens; webhooks; ' +
        'commit statuses) to the blob store, each scope in one consistent read; the newest 48 snapshots are kept. Run it on a ' +
        'schedule (cron): the last snapshot is their recovery point after a lost KV store. Safe while servers run',
    )
    .action(async () => {
      await withStores(async ({ stores, accounts, registry }) => {
        const { key, scopes, entries } = await writeSnapshot({ kv: stores.kv, blobs: stores.blobs, accounts, registry });
        process.stdout.write(`${key}: ${entries} entries in ${scopes} scopes\n`);
      });
    });

  journal
    .command('restore-snapshot')
    .description(
      'write the newest snapshot (or --snapshot <key>) into the KV store, after journal recover and before the servers start ' +
        '(a server creates its bootstrap administrator at start-up); exits 4 if the KV store already holds what it restores',
    )
    .option('--snapshot <key>', 'the snapshot to restore, e.g. snapshots/kv/2026-12-05T114219.123Z-1a2b3c4d.json')
    .option('--force', 'write into scopes that are not empty: the snapshot overwrites the keys it holds')
    .action(async (options: { snapshot?: string; force?: boolean }) => {
      await withStores(async ({ stores }) => {
        const restored = await restoreSnapshot(stores, { key: options.snapshot, force: options.force === true }).catch(refusedAsConflict);
        process.stdout.write(
          `restored ${restored.entries} entries in ${restored.scopes} scopes as of ${restored.time} (${restored.key})\n`,
        );
      });
    });

  journal
    .command('checkpoint')
    .description(
      'write a checkpoint of the registry and of every repository now: brings repositories created before journaling began ' +
        'under the journal, and Git LFS locks taken before locks had copies in the blob store under recovery (run it once ' +
        'after upgrading), and shortens the next recovery. Safe while servers run',
    )
    .action(async () => {
      await withStores(async ({ stores }) => {
        const line = new ProgressLine(process.stderr);
        try {
          const { repositories, lfsLockBlobsWritten } = await checkpointAll(stores, ({ repositoriesDone, repositoriesTotal }) =>
            line.update(`checkpoint: ${repositoriesDone}/${repositoriesTotal} repositories`),
          );
          line.done(`checkpoint: ${repositories}/${repositories} repositories`);
          process.stdout.write(
            `checkpointed the registry and ${repositories} repositories` +
              (lfsLockBlobsWritten > 0 ? `; wrote the missing copies of ${lfsLockBlobsWritten} LFS locks` : '') +
              '\n',
          );
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
