/**
 * The journal of the repository registry (creations, renames, transfers, changes of visibility
 * or description, deletions): one global sequence, since one registry transaction may move a
 * repository from one key to another. Registry changes are rare, so each may afford what a push
 * may not: an extra write that SETTLES the previous transaction.
 *
 * ORDERING. The registry's compare-and-swap also replaces `journal:last` (expected as read) by
 * the new transaction's whole entry: THE COMMIT POINT, which orders registry transactions by
 * their sequence number. Then the entry is written to the blob store, then the caller hears of
 * success. Before its own compare-and-swap, every transaction writes the entry found in
 * `journal:last` (putIfAbsent of the very same bytes: a no-op when its own transaction wrote it).
 * So at most the LAST registry transaction can be missing from the journal, and only when its
 * caller was told it failed (JournalWriteError: unknown outcome). A crash between the
 * compare-and-swap and the entry's write leaves exactly that, settled by the next registry change.
 * Entries carry each key's new value, so replay in sequence order gives the committed registry.
 * A compare-and-swap the KV store applied but could not confirm durable (WriteOutcomeUnknown) is
 * journaled all the same and its caller told the outcome is unknown, as for a ref transaction
 * (see ref-journal.ts).
 */
import { WriteOutcomeUnknown, type BlobStore, type CasOp, type CasResult, type KVStore } from '@gitfleet/storage';
import {
  DELETED_REPO_KEY_PREFIX,
  REGISTRY_JOURNAL_LAST_KEY,
  REGISTRY_SCOPE,
  REPO_KEY_PREFIX,
  journalCheckpointKey,
  journalEntryKey,
} from '../keys.js';
import {
  JOURNAL_FORMAT,
  encodeJournalBlob,
  parseRegistryCheckpoint,
  parseRegistryEntry,
  type RegistryCheckpoint,
  type RegistryEntry,
} from './format.js';
import { DEFAULT_CHECKPOINT_EVERY, lastJournaledSeq, type RefJournalOptions } from './ref-journal.js';
import { JournalSequenceTaken, JournalWriteError, TransactionOutcomeUnknown, writeJournalBlob } from './write-blob.js';

const MAX_ATTEMPTS = 100;

export class RegistryJournal {
  private readonly checkpointEvery: number;

  constructor(
    private readonly kv: KVStore,
    private readonly blobs: BlobStore,
    options: RefJournalOptions = {},
  ) {
    this.checkpointEvery = options.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY;
  }

  /**
   * kv.compareAndSwap(REGISTRY_SCOPE, ops, 'all'), journaled before it resolves.
   * @throws JournalWriteError when the ops were applied but their entry could not be written.
   */
  async swap(ops: readonly CasOp[]): Promise<CasResult> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const last = (await this.kv.get(REGISTRY_SCOPE, REGISTRY_JOURNAL_LAST_KEY)) ?? null;
      const previous = last === null ? undefined : parseRegistryEntry(Buffer.from(last), `${REGISTRY_SCOPE}/${REGISTRY_JOURNAL_LAST_KEY}`);
      if (previous) await writeJournalBlob(this.blobs, journalEntryKey(undefined, previous.seq), Buffer.from(last!));
      const entry: RegistryEntry = {
        format: JOURNAL_FORMAT,
        seq: (previous?.seq ?? 0) + 1,
        time: new Date().toISOString(),
        changes: ops.map(({ key, value }) => ({ key, value })),
      };
      const encoded = encodeJournalBlob(entry);
      const { conflicts } = await this.kv
        .compareAndSwap(REGISTRY_SCOPE, [...ops, { key: REGISTRY_JOURNAL_LAST_KEY, expect: last, value: encoded.toString('utf8') }], 'all')
        .catch(async (error: unknown) => {
          if (!(error instanceof WriteOutcomeUnknown)) throw error;
          await this.journal(entry, encoded);
          throw new TransactionOutcomeUnknown(
            `repository registry: transaction ${entry.seq} is journaled, but its outcome is unknown: ${error.message}`,
            {
              cause: error,
            },
          );
        });
      if (conflicts.length === 0) {
        await this.journal(entry, encoded);
        return { conflicts: [] };
      }
      const inConflict = conflicts.filter((at) => at < ops.length);
      // Only `journal:last` moved: another registry transaction committed in between; try again.
      if (inConflict.length > 0) return { conflicts: inConflict };
    }
    throw new Error(`repository registry: a transaction lost the race for the next sequence number ${MAX_ATTEMPTS} times`);
  }

  private async journal(committed: RegistryEntry, encoded: Buffer): Promise<void> {
    let { seq } = committed;
    try {
      try {
        await writeJournalBlob(this.blobs, journalEntryKey(undefined, seq), encoded);
      } catch (error) {
        if (!(error instanceof JournalSequenceTaken)) throw error;
        seq = await this.skipPastJournal(committed, encoded);
      }
    } catch (error) {
      throw new JournalWriteError(
        `repository registry: transaction ${seq} is committed in the KV store but its journal entry could not be written ` +
          `(the next registry change writes it), so its outcome is unknown: ${(error as Error).message}`,
        { cause: error },
      );
    }
    // Not awaited: see RefJournal.journal.
    if (seq % this.checkpointEvery === 0) this.checkpoint().catch(() => undefined);
  }

  /**
   * The KV store lost registry transactions the journal has (see RefJournal.skipPastJournal):
   * renumbers the one just committed past the journal's last entry, in `journal:last` and in the
   * journal, so that it replays after them.
   */
  private async skipPastJournal(committed: RegistryEntry, encoded: Buffer): Promise<number> {
    const seq = (await lastJournaledSeq(this.blobs, undefined)) + 1;
    const moved = encodeJournalBlob({ ...committed, seq });
    const { conflicts } = await this.kv.compareAndSwap(
      REGISTRY_SCOPE,
      [{ key: REGISTRY_JOURNAL_LAST_KEY, expect: encoded.toString('utf8'), value: moved.toString('utf8') }],
      'all',
    );
    if (conflicts.length > 0)
      throw new Error(`sequence number ${committed.seq} is taken in the journal, and another transaction committed meanwhile`);
    await writeJournalBlob(this.blobs, journalEntryKey(undefined, seq), moved);
    return seq;
  }

  /** Writes a checkpoint of the registry as it is now; resolves to its sequence number. */
  async checkpoint(): Promise<number> {
    let entries = await this.kv.scan(REGISTRY_SCOPE, '');
    if (!entries.some(({ key }) => key === REGISTRY_JOURNAL_LAST_KEY)) {
      // A registry older than the journal: an empty first transaction gives its state a sequence number.
      await this.swap([]);
      entries = await this.kv.scan(REGISTRY_SCOPE, '');
    }
    const last = entries.find(({ key }) => key === REGISTRY_JOURNAL_LAST_KEY)!;
    const { seq } = parseRegistryEntry(Buffer.from(last.value), `${REGISTRY_SCOPE}/${REGISTRY_JOURNAL_LAST_KEY}`);
    const checkpoint: RegistryCheckpoint = {
      format: JOURNAL_FORMAT,
      seq,
      time: new Date().toISOString(),
      entries: entries.filter(({ key }) => key.startsWith(REPO_KEY_PREFIX) || key.startsWith(DELETED_REPO_KEY_PREFIX)),
    };
    const key = journalCheckpointKey(undefined, seq);
    // A checkpoint at this sequence number was written before (no registry change since): it holds
    // the same state, taken at another time, and stays.
    const earlier = await this.blobs.get(key);
    if (earlier && sameEntries(parseRegistryCheckpoint(earlier, key), checkpoint)) return seq;
    await writeJournalBlob(this.blobs, key, encodeJournalBlob(checkpoint));
    return seq;
  }
}

function sameEntries(a: RegistryCheckpoint, b: RegistryCheckpoint): boolean {
  return JSON.stringify(a.entries) === JSON.stringify(b.entries);
}
