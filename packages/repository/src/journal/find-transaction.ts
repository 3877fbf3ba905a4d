import type { BlobStore } from '@gitfleet/storage';
import { journalBlobPrefix, parseJournalKey } from '../keys.js';
import { CorruptJournalBlob, parseRefTransaction, type RefTransaction } from './format.js';

/**
 * The journaled transaction of a repository written with `message` and committed at `notBefore`
 * or later, newest first; undefined when the journal has none. For a caller that must know
 * whether a transaction committed after the KV store lost what told it (its reflogs, after a
 * recovery from the journal): an acknowledged transaction always has its entry (ref-journal.ts).
 *
 * Entries are read from the newest down to the first committed more than `clockSkewMs` before
 * `notBefore` (entries are in commit order, their times from several servers' clocks), so a
 * recent transaction costs a few reads however long the journal is.
 */
export async function findJournaledTransaction(
  blobs: BlobStore,
  repositoryId: string,
  message: string,
  notBefore: number,
  clockSkewMs = 5 * 60_000,
): Promise<RefTransaction | undefined> {
  const entries: Array<{ key: string; seq: number }> = [];
  for await (const { key } of blobs.list(journalBlobPrefix(repositoryId))) {
    const parsed = parseJournalKey(key);
    if (parsed?.kind === 'entry') entries.push({ key, seq: parsed.seq });
  }
  entries.sort((a, b) => b.seq - a.seq);
  for (const { key } of entries) {
    const bytes = await blobs.get(key);
    if (!bytes) continue;
    let entry: RefTransaction;
    try {
      entry = parseRefTransaction(bytes, key);
    } catch (error) {
      if (error instanceof CorruptJournalBlob) continue;
      throw error;
    }
    if (entry.message === message) return entry;
    if (Date.parse(entry.time) < notBefore - clockSkewMs) return undefined;
  }
  return undefined;
}
