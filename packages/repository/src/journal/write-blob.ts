import type { BlobStore } from '@gitfleet/storage';

/**
 * A ref or registry transaction that may or may not have taken effect: its compare-and-swap was
 * applied but is not known durable. Never reported to a client as success, nor as "nothing changed".
 */
export class TransactionOutcomeUnknown extends Error {
  override name = 'TransactionOutcomeUnknown';
}

/** A journal write that did not become durable; what it journals may have been committed in the KV store nonetheless. */
export class JournalWriteError extends TransactionOutcomeUnknown {
  override name = 'JournalWriteError';
}

/** The sequence number's entry exists already with other contents: the KV store lost transactions the journal has. */
export class JournalSequenceTaken extends JournalWriteError {
  override name = 'JournalSequenceTaken';
}

/** Tries of one journal write: a store that failed once (a timeout, a 5xx) often answers the next call. */
const ATTEMPTS = 3;
const RETRY_DELAY_MS = 50;

/**
 * Writes a journal blob, durable when this resolves. A blob already there with the same bytes
 * is a write that succeeded before (a retry, or a transaction settling its predecessor): fine.
 * Different bytes under the key mean two transactions claimed one sequence number, which the
 * compare-and-swap rules out unless the KV store lost writes the journal has (a Redis failover
 * that dropped acknowledged writes): JournalSequenceTaken, never an overwrite.
 */
export async function writeJournalBlob(blobs: BlobStore, key: string, bytes: Buffer): Promise<void> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    try {
      if (await blobs.putIfAbsent(key, bytes)) return;
      const stored = await blobs.get(key);
      if (stored?.equals(bytes)) return;
      throw new JournalSequenceTaken(`journal blob ${key} exists already with other contents`);
    } catch (error) {
      if (error instanceof JournalWriteError) throw error;
      lastError = error;
      if (attempt < ATTEMPTS) await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS * attempt));
    }
  }
  throw new JournalWriteError(`writing journal blob ${key}: ${(lastError as Error)?.message ?? String(lastError)}`, { cause: lastError });
}
