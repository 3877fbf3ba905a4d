import type { BlobStore } from '@gitfleet/storage';
import { journalBlobPrefix, parseJournalKey } from '../keys.js';

const journalCheckpointPrefix = (repositoryId: string | undefined) => `${journalBlobPrefix(repositoryId)}checkpoint-`;

/**
 * Checkpoints a journal keeps: recovery starts from the newest it can read, so with the one
 * before it (and every entry since) kept, a checkpoint lost or corrupt does not lose the journal.
 */
export const JOURNAL_CHECKPOINTS_KEPT = 2;

export interface JournalPruning {
  checkpoints: number;
}

/**
 * Deletes the checkpoints recovery no longer reads: every one older than the
 * JOURNAL_CHECKPOINTS_KEPT newest. Entries are kept, every one: an entry's blob is what tells a
 * transaction that the KV store fell behind the journal (a Redis restored from an old snapshot)
 * — its sequence number is taken — and without it that transaction would be numbered among the
 * entries a checkpoint covers, where recovery does not look. `repositoryId` undefined prunes the
 * registry's journal.
 */
export async function pruneJournal(blobs: BlobStore, repositoryId: string | undefined, signal?: AbortSignal): Promise<JournalPruning> {
  const checkpoints: Array<{ key: string; seq: number }> = [];
  for await (const { key } of blobs.list(journalCheckpointPrefix(repositoryId))) {
    const parsed = parseJournalKey(key);
    if (parsed?.kind === 'checkpoint') checkpoints.push({ key, seq: parsed.seq });
  }
  const pruned: JournalPruning = { checkpoints: 0 };
  if (checkpoints.length < JOURNAL_CHECKPOINTS_KEPT) return pruned;
  const oldestKept = checkpoints.map(({ seq }) => seq).sort((a, b) => b - a)[JOURNAL_CHECKPOINTS_KEPT - 1];
  for (const checkpoint of checkpoints.filter(({ seq }) => seq < oldestKept)) {
    signal?.throwIfAborted();
    await blobs.delete(checkpoint.key);
    pruned.checkpoints++;
  }
  return pruned;
}
