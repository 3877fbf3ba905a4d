/**
 * THE ORDERING THAT MAKES THE REF JOURNAL SAFE (every ref, HEAD and symref change of a
 * repository goes through RefJournal.swap; a push's pack is durable and registered before).
 *
 *   1. The compare-and-swap in the KV store that moves the refs also moves `journal:seq` from
 *      N-1 to N (expected as read). This is THE COMMIT POINT of the transaction: it is atomic
 *      per repository (one scope: one Lua script on one Redis shard, one SQLite transaction),
 *      so transactions of a repository are totally ordered by N, with no two sharing one N.
 *   2. The entry N is written to the blob store (putIfAbsent, durable when it resolves).
 *   3. Only then does the caller hear that the transaction succeeded, and only then is a push
 *      acknowledged (report-status is sent after RefDB.update returns).
 *
 * A crash or failure...
 *   - before 1: nothing changed; the push's pack is unreferenced (the collector removes it).
 *   - between 1 and 2, or a failed 2: the KV store has the change, the journal does not. The
 *     caller gets a JournalWriteError and the client an error, never "ok" ("unknown outcome": the
 *     refs did move in the live system). N is a GAP in the journal.
 *   - after 2: the transaction is durable; whether or not 3 happened, recovery keeps it.
 *   - 1 applied, but not confirmed durable by the KV store (WriteOutcomeUnknown: a Redis master
 *     whose replicas did not acknowledge it in time): 2 happens as usual and the caller gets a
 *     TransactionOutcomeUnknown, never "ok". If the KV store keeps the write, it is a committed
 *     transaction like any other. If a failover loses it, the KV's `journal:seq` falls behind the
 *     journal; the next transaction meets the taken number and moves past it (skipPastJournal),
 *     and recovery replays the lost one: an outcome the client was told was possible.
 *
 * Why replay yields exactly the acknowledged state: every acknowledged transaction has its
 * entry (2 precedes 3), and entries replay in N order, which is commit order. Entries carry
 * absolute new values, not diffs, so a gap (an unacknowledged transaction) does not disturb
 * the replay of later entries: a later entry that touched the same ref sets its value outright,
 * and a ref only the gap touched keeps the value of its last durable change, which is what was
 * last acknowledged for it. Checkpoints are a consistent read of the whole scope (refs, HEAD,
 * packs and `journal:seq` together), so a checkpoint at N is exactly the KV's state after N and
 * settles any gap before it.
 */
import { WriteOutcomeUnknown, type BlobStore, type CasOp, type CasResult, type KVStore } from '@gitfleet/storage';
import {
  HEAD_KEY,
  JOURNAL_SEQ_KEY,
  PACK_KEY_PREFIX,
  REF_KEY_PREFIX,
  journalBlobPrefix,
  journalCheckpointKey,
  journalEntryKey,
  parseJournalKey,
  parsePackRecord,
  refNameFromKey,
  repositoryScope,
} from '../keys.js';
import { JOURNAL_FORMAT, encodeJournalBlob, type RefCheckpoint, type RefTransaction } from './format.js';
import { JournalSequenceTaken, JournalWriteError, TransactionOutcomeUnknown, writeJournalBlob } from './write-blob.js';

/** A checkpoint every this many transactions: recovery then reads at most this many entries after the newest checkpoint. */
export const DEFAULT_CHECKPOINT_EVERY = 100;

/**
 * Optimistic tries of one transaction against others: a lost try means another transaction of
 * the repository committed (the repository as a whole progresses), or that one this process sent
 * just before, whose number it expected, was not applied (a ref conflict); a try that follows
 * reads the number, so a transaction loses only to those in flight when it was sent.
 */
const MAX_ATTEMPTS = 100;

export interface RefJournalOptions {
  checkpointEvery?: number;
}

/** What a transaction changed, told to the journal once its compare-and-swap committed. */
export type JournalChange = Omit<RefTransaction, 'format' | 'repository' | 'seq' | 'time'>;

export class RefJournal {
  private readonly scope: string;
  private readonly checkpointEvery: number;

  constructor(
    private readonly repositoryId: string,
    private readonly kv: KVStore,
    private readonly blobs: BlobStore,
    options: RefJournalOptions = {},
  ) {
    this.scope = repositoryScope(repositoryId);
    this.checkpointEvery = options.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY;
  }

  /**
   * kv.compareAndSwap(scope, ops, mode) that also takes the next sequence number and journals
   * what was applied (`describe` gets the indexes of the applied ops) before it resolves.
   * Same result as the KV's: the ops not applied. Mode 'each' is carried out as tries in mode
   * 'all', each without the ops the previous one found in conflict (those are the conflicts mode
   * 'each' reports), so that the sequence number moves only with what is applied.
   * @throws JournalWriteError when the ops were applied but their entry could not be written.
   */
  async swap(ops: readonly CasOp[], mode: 'all' | 'each', describe: (applied: readonly number[]) => JournalChange): Promise<CasResult> {
    let remaining = ops.map((_, i) => i);
    const refused: number[] = [];
    const hints = sequenceHints(this.kv);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const hinted = hints.get(this.scope);
      const current = hinted !== undefined ? hinted : ((await this.kv.get(this.scope, JOURNAL_SEQ_KEY)) ?? null);
      const seq = current === null ? 1 : parseSeq(current, this.scope) + 1;
      const sent = this.kv.compareAndSwap(
        this.scope,
        [...remaining.map((i) => ops[i]), { key: JOURNAL_SEQ_KEY, expect: current, value: String(seq) }],
        'all',
      );
      // Taken as sent: a transaction of this process that starts before this one is answered
      // expects `seq` and applies right after it, instead of expecting what this one expected
      // and losing the race to it.
      rememberSequence(hints, this.scope, String(seq));
      const { conflicts } = await sent.catch(async (error: unknown) => {
        hints.delete(this.scope);
        if (!(error instanceof WriteOutcomeUnknown)) throw error;
        await this.journal(seq, describe(remaining));
        throw new TransactionOutcomeUnknown(
          `${this.scope}: ref transaction ${seq} is journaled, but its outcome is unknown: ${error.message}`,
          {
            cause: error,
          },
        );
      });
      if (conflicts.length === 0) {
        await this.journal(seq, describe(remaining));
        return { conflicts: refused.sort((a, b) => a - b) };
      }
      // Not applied, so `seq` was not taken, and neither by the transactions that expected it:
      // the next try reads the number.
      hints.delete(this.scope);
      const inConflict = conflicts.filter((at) => at < remaining.length).map((at) => remaining[at]);
      if (inConflict.length === 0) continue;
      if (mode === 'all') return { conflicts: inConflict };
      refused.push(...inConflict);
      const dropped = new Set(inConflict);
      remaining = remaining.filter((i) => !dropped.has(i));
      if (remaining.length === 0) return { conflicts: refused.sort((a, b) => a - b) };
    }
    throw new Error(`${this.scope}: a ref transaction lost the race for the next sequence number ${MAX_ATTEMPTS} times`);
  }

  private async journal(committedSeq: number, change: JournalChange): Promise<void> {
    let seq = committedSeq;
    const time = new Date().toISOString();
    const entry = (at: number): RefTransaction => ({ format: JOURNAL_FORMAT, repository: this.repositoryId, seq: at, time, ...change });
    try {
      try {
        await writeJournalBlob(this.blobs, journalEntryKey(this.repositoryId, seq), encodeJournalBlob(entry(seq)));
      } catch (error) {
        if (!(error instanceof JournalSequenceTaken)) throw error;
        seq = await this.skipPastJournal(committedSeq);
        await writeJournalBlob(this.blobs, journalEntryKey(this.repositoryId, seq), encodeJournalBlob(entry(seq)));
      }
    } catch (error) {
      throw new JournalWriteError(
        `${this.scope}: ref transaction ${seq} is committed in the KV store but its journal entry could not be written, ` +
          `so its outcome is unknown: ${(error as Error).message}`,
        { cause: error },
      );
    }
    // Not awaited: the transaction is durable without it; a checkpoint only shortens recovery,
    // and a failed one is made up for by the next.
    if (seq % this.checkpointEvery === 0) this.checkpoint().catch(() => undefined);
  }

  /**
   * The KV store's sequence number fell behind the journal: it lost transactions that were
   * journaled (and maybe acknowledged). Moves it, and the transaction just committed at
   * `committedSeq`, past the journal's last entry, so that this transaction replays after every
   * journaled one, as it happened after them. Left as it was, every later transaction of the
   * repository would meet a taken number.
   */
  private async skipPastJournal(committedSeq: number): Promise<number> {
    const seq = (await lastJournaledSeq(this.blobs, this.repositoryId)) + 1;
    sequenceHints(this.kv).delete(this.scope);
    const { conflicts } = await this.kv.compareAndSwap(
      this.scope,
      [{ key: JOURNAL_SEQ_KEY, expect: String(committedSeq), value: String(seq) }],
      'all',
    );
    if (conflicts.length > 0)
      throw new Error(`sequence number ${committedSeq} is taken in the journal, and another transaction committed meanwhile`);
    return seq;
  }

  /** Writes a checkpoint of the repository as it is now; resolves to its sequence number (0: no such repository, nothing written). */
  async checkpoint(): Promise<number> {
    let checkpoint = await readCheckpoint(this.kv, this.repositoryId);
    // Deleted meanwhile (or never created): its scope has no HEAD.
    if (checkpoint.head === '') return 0;
    if (checkpoint.seq === 0) {
      // A repository older than the journal: an empty first transaction gives its state a sequence number.
      await this.swap([], 'all', () => ({ message: 'start the journal', refs: [] }));
      checkpoint = await readCheckpoint(this.kv, this.repositoryId);
    }
    await writeJournalBlob(this.blobs, journalCheckpointKey(this.repositoryId, checkpoint.seq), encodeJournalBlob(checkpoint));
    return checkpoint.seq;
  }
}

/**
 * Per KV store, the last sequence number this process sent in a transaction of each repository:
 * the next transaction expects it instead of reading `journal:seq` first, which saves a round
 * trip per push. A store applies one process's calls in the order they are made (one Redis
 * connection, one synchronous SQLite handle), so concurrent pushes of a repository in one process
 * take consecutive numbers rather than all expecting the same one. When the guess is wrong
 * (another process moved the number, or a transaction expected was not applied), the
 * compare-and-swap says so and the next try reads it.
 */
const hintsByStore = new WeakMap<KVStore, Map<string, string>>();
const MAX_HINTS = 10_000;

function sequenceHints(kv: KVStore): Map<string, string> {
  let hints = hintsByStore.get(kv);
  if (!hints) hintsByStore.set(kv, (hints = new Map<string, string>()));
  return hints;
}

function rememberSequence(hints: Map<string, string>, scope: string, seq: string): void {
  hints.delete(scope);
  hints.set(scope, seq);
  // The least recently committed repository goes first (a Map iterates in insertion order).
  if (hints.size > MAX_HINTS) hints.delete(hints.keys().next().value!);
}

/** The highest sequence number in the journal of a repository (or of the registry), 0 if none. */
export async function lastJournaledSeq(blobs: BlobStore, repositoryId: string | undefined): Promise<number> {
  let last = 0;
  for await (const { key } of blobs.list(journalBlobPrefix(repositoryId))) {
    const parsed = parseJournalKey(key);
    if (parsed) last = Math.max(last, parsed.seq);
  }
  return last;
}

/** The repository's state in one consistent read of its scope: refs, HEAD, packs and the sequence number agree. */
export async function readCheckpoint(kv: KVStore, repositoryId: string): Promise<RefCheckpoint> {
  const scope = repositoryScope(repositoryId);
  const entries = await kv.scan(scope, '');
  const checkpoint: RefCheckpoint = {
    format: JOURNAL_FORMAT,
    repository: repositoryId,
    seq: 0,
    time: new Date().toISOString(),
    head: '',
    refs: [],
    packs: [],
  };
  for (const { key, value } of entries) {
    if (key === JOURNAL_SEQ_KEY) checkpoint.seq = parseSeq(value, scope);
    else if (key === HEAD_KEY) checkpoint.head = value;
    else if (key.startsWith(REF_KEY_PREFIX)) checkpoint.refs.push({ name: refNameFromKey(key), oid: value });
    else if (key.startsWith(PACK_KEY_PREFIX)) {
      const checksum = key.slice(PACK_KEY_PREFIX.length);
      checkpoint.packs.push({ checksum, ...parsePackRecord(value, checksum, scope) });
    }
  }
  return checkpoint;
}

function parseSeq(value: string, scope: string): number {
  const seq = Number(value);
  if (!Number.isSafeInteger(seq) || seq < 0)
    throw new Error(`${scope}: ${JOURNAL_SEQ_KEY} holds ${JSON.stringify(value)}, not a sequence number`);
  return seq;
}
