import type { AppliedRefUpdate } from '@gitfleet/protocol';
import type { RefDB, ReflogEntry, RefTransaction } from '@gitfleet/repository';

/** What the outbox recorded of a ref transaction before its compare-and-swap. */
export interface RecordedTransaction {
  /** The fence name the push gave its ref update (RefUpdateOptions.fence). */
  fence: string;
  /** The updates the push was about to apply. */
  updates: readonly AppliedRefUpdate[];
  /** Written with each applied update, atomically with it. */
  reflogMessage: string;
  /** True once the pusher's compare-and-swap has returned (whatever it applied). */
  settled: boolean;
  /** When it was recorded (ms since the epoch): before its compare-and-swap, so before its journal entry. */
  recordedAt: number;
}

/** The repository's journal: its transaction written with `message`, committed at `notBefore` or later (findJournaledTransaction). */
export type JournalLookup = (message: string, notBefore: number) => Promise<RefTransaction | undefined>;

/** Which of a transaction's updates are committed, for good: none when it never committed. */
export interface Settlement {
  applied: AppliedRefUpdate[];
  /** How it was decided, for the logs. */
  by: 'reflog' | 'journal' | 'pusher-returned' | 'fence';
}

/**
 * Decides whether a recorded ref transaction committed, from durable state only, never from
 * how long ago it was recorded:
 *
 * 1. An update whose reflog shows our entry (same message, old and new id) is committed: the
 *    entry is written in the same compare-and-swap as the ref. The compare-and-swap is one
 *    atomic step, so once one update shows, it is over, and the updates that do not show were
 *    refused.
 * 2. Nothing shows and the pusher said its compare-and-swap returned: it applied none of them
 *    (a push that committed but could not journal, the "unknown outcome" case, still shows in
 *    the reflog, so it is delivered by 1).
 * 3. Nothing shows and the pusher never said so (it died, or is still on its way): the fence is
 *    set, then the reflog read again. The push's compare-and-swap requires the fence's key to be
 *    absent, and both live in the repository's scope, where writes are totally ordered: either
 *    the push's compare-and-swap came first, and the second read shows it, or it comes after
 *    the fence, and it can never apply. Either way the second read is the final answer. A push
 *    still alive then fails (it told git nothing yet), which is what a push that stalls past the
 *    recovery delay costs. Setting the fence is safe at any time (it never loses a committed
 *    update), so when to set it is only a matter of how long a live push may take: the caller
 *    says whether it may (`mayFence`); when it may not, the outcome is left unknown (undefined).
 * 4. Whatever 2 or 3 said, the journal in the object store is asked last: a KV store rebuilt from
 *    it (`gitfleet admin recover`) has the refs but no reflogs, so a committed transaction shows
 *    only there. Its entry lists exactly the updates that were applied. It is asked only when the
 *    reflog shows nothing, which is rare (a refused push, a pusher that died before its update).
 *
 * A store that cannot be read or written throws: the outcome stays unknown, and the caller tries
 * again later (the entry waits, it is not dropped).
 */
export async function settleRefTransaction(
  refs: Pick<RefDB, 'reflog' | 'fence'>,
  journal: JournalLookup,
  recorded: RecordedTransaction,
  mayFence: boolean,
): Promise<Settlement | undefined> {
  const shown = await confirmedUpdates(refs, recorded);
  if (shown.length > 0) return { applied: shown, by: 'reflog' };
  if (!recorded.settled) {
    if (!mayFence) return undefined;
    await refs.fence(recorded.fence);
    const late = await confirmedUpdates(refs, recorded);
    if (late.length > 0) return { applied: late, by: 'fence' };
  }
  const entry = await journal(recorded.reflogMessage, recorded.recordedAt);
  if (entry) {
    const journaled = (update: AppliedRefUpdate) =>
      entry.refs.some((ref) => ref.name === update.name && ref.oldOid === update.oldOid && ref.newOid === update.newOid);
    return { applied: recorded.updates.filter(journaled), by: 'journal' };
  }
  return { applied: [], by: recorded.settled ? 'pusher-returned' : 'fence' };
}

/**
 * The youngest a push's recorded events may be when their fence is set; setting it fails the push
 * if it is still alive, so this bounds how long a live push may take between recording its events
 * and its compare-and-swap. A Redis failover holds that compare-and-swap for the whole window:
 * about 30 s before Sentinel or Cluster promotes a replica, the ~11 s ioredis queues a command
 * while it reconnects (maxRetriesPerRequest 20, its default backoff, no command timeout), the WAIT
 * for replicas (GITFLEET_REDIS_WAIT_TIMEOUT_MS, 1 s by default), and a margin for a loaded machine.
 */
export const MIN_FENCE_AGE_MS = 60_000;

/**
 * Whether a recorded transaction's fence may be set now (settleRefTransaction's `mayFence`): never
 * on its first run, which a live push's own `refsUpdated` may still overtake, and only once the
 * record is `fenceAgeMs` old (the larger of the recovery delay and MIN_FENCE_AGE_MS in a server).
 */
export function mayFenceNow(recorded: Pick<RecordedTransaction, 'recordedAt'>, attempt: number, fenceAgeMs: number, now: number): boolean {
  return attempt > 1 && now - recorded.recordedAt >= fenceAgeMs;
}

/** Reflog entries read first when looking for a push's: it is among the newest unless the ref is very busy. */
const RECENT_REFLOG_ENTRIES = 64;

/** The updates of a recorded transaction that their reflog shows were applied. */
async function confirmedUpdates(refs: Pick<RefDB, 'reflog'>, recorded: RecordedTransaction): Promise<AppliedRefUpdate[]> {
  const confirmed: AppliedRefUpdate[] = [];
  for (const update of recorded.updates) {
    const isOurs = (entry: ReflogEntry) =>
      entry.message === recorded.reflogMessage && entry.oldOid === update.oldOid && entry.newOid === update.newOid;
    let entries = await refs.reflog(update.name, RECENT_REFLOG_ENTRIES);
    if (!entries.some(isOurs) && entries.length === RECENT_REFLOG_ENTRIES) entries = await refs.reflog(update.name);
    if (entries.some(isOurs)) confirmed.push(update);
  }
  return confirmed;
}
