import type { BlobStore, KVStore } from '@gitfleet/storage';
import { JOURNAL_ENTRY_WINDOW, JOURNAL_SEQ_KEY, journalEntryWindowPrefix, parseJournalKey, repositoryScope } from '../keys.js';
import { CorruptJournalBlob, parseRefTransaction, type RefTransaction } from './format.js';

/**
 * The journaled transaction of a repository written with `message` and committed at `notBefore`
 * or later, newest first; undefined when the journal has none. For a caller that must know
 * whether a transaction committed after the KV store lost what told it (its reflogs, after a
 * recovery from the journal): an acknowledged transaction always has its entry (ref-journal.ts).
 *
 * Entries are read from the newest down to the first committed more than `clockSkewMs` before
 * `notBefore` (entries are in commit order, their times from several servers' clocks), listed a
 * window of JOURNAL_ENTRY_WINDOW at a time from the KV store's sequence number (and past it, for
 * entries a KV store that fell behind does not know), so a recent transaction costs a listing or
 * two and a few reads however long the journal is.
 */
export async function findJournaledTransaction(
  stores: { blobs: BlobStore; kv: KVStore },
  repositoryId: string,
  message: string,
  notBefore: number,
  clockSkewMs = 5 * 60_000,
): Promise<RefTransaction | undefined> {
  const { blobs, kv } = stores;
  const entriesOf = async (window: number) => {
    const entries: Array<{ key: string; seq: number }> = [];
    for await (const { key } of blobs.list(journalEntryWindowPrefix(repositoryId, window))) {
      const parsed = parseJournalKey(key);
      if (parsed?.kind === 'entry') entries.push({ key, seq: parsed.seq });
    }
    return entries.sort((a, b) => b.seq - a.seq);
  };
  const known = Number((await kv.get(repositoryScope(repositoryId), JOURNAL_SEQ_KEY)) ?? 0);
  let top = Math.floor(known / JOURNAL_ENTRY_WINDOW);
  let entries = await entriesOf(top);
  for (let above = await entriesOf(top + 1); above.length > 0; above = await entriesOf(top + 1)) {
    top++;
    entries = above;
  }
  for (let window = top; window >= 0; window--) {
    if (window < top) entries = await entriesOf(window);
    // Entries are never pruned: a window with none is below the journal's first.
    if (entries.length === 0 && window < top) return undefined;
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
  }
  return undefined;
}
