import type { BlobStore } from '@gitfleet/storage';
import { journalBlobPrefix, parseJournalKey } from '../keys.js';

/**
 * Checkpoints a journal keeps: recovery starts from the newest it can read, so with the one
 * before it (and every entry since) kept, a checkpoint lost or corrupt does not lose the journal.
 */
export const JOURNAL_CHECKPOINTS_KEPT = 2;

export interface JournalPruning {
  entries: number;
  checkpoints: number;
}

/**
 * Deletes the journal blobs recovery no longer reads: every checkpoint older than the
 * JOURNAL_CHECKPOINTS_KEPT newest, and every entry the oldest kept checkpoint covers (a
 * checkpoint at N is the whole state after transaction N). An entry of a transaction before N
 * written late, after the pruning, is covered just the same and ignored by recovery. The next
 * registry transaction may write the registry's last entry again (it settles `journal:last`);
 * that too is covered. `repositoryId` undefined prunes the registry's journal.
 */
export async function pruneJournal(blobs: BlobStore, repositoryId: string | undefined, signal?: AbortSignal): Promise<JournalPruning> {
  const checkpoints: Array<{ key: string; seq: number }> = [];
  const entries: Array<{ key: string; seq: number }> = [];
  for await (const { key } of blobs.list(journalBlobPrefix(repositoryId))) {
    const parsed = parseJournalKey(key);
    if (parsed) (parsed.kind === 'checkpoint' ? checkpoints : entries).push({ key, seq: parsed.seq });
  }
  const pruned: JournalPruning = { entries: 0, checkpoints: 0 };
  if (checkpoints.length < JOURNAL_CHECKPOINTS_KEPT) return pruned;
  const oldestKept = checkpoints.map(({ seq }) => seq).sort((a, b) => b - a)[JOURNAL_CHECKPOINTS_KEPT - 1];
  for (const entry of entries.filter(({ seq }) => seq <= oldestKept)) {
    signal?.throwIfAborted();
    await blobs.delete(entry.key);
    pruned.entries++;
  }
  for (const checkpoint of checkpoints.filter(({ seq }) => seq < oldestKept)) {
    signal?.throwIfAborted();
    await blobs.delete(checkpoint.key);
    pruned.checkpoints++;
  }
  return pruned;
}
