import type { BlobStore } from '../blob-store.js';
import { validateBlobPrefix } from '../validation.js';
import { mergeListings, type MergedEntry } from './merge-listings.js';
import { errorMessage } from './placement-error.js';

/** How a pass over every key of a placement goes: which keys, how many at once, how it yields and stops. */
export interface KeyWalkOptions {
  /** Only keys starting with this. Default '' (every key). */
  prefix?: string;
  /** Keys handled at once. Default 4. */
  concurrency?: number;
  /**
   * Awaited before each key: a background pass yields here to the requests the process serves
   * (the stores' answers alone may come fast enough to keep the event loop busy).
   */
  pace?: () => Promise<void>;
  /** Stops the pass before the next key; the pass then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Hands every key of the stores' merged listings (streaming: one pending entry per store) to
 * `visit`, `concurrency` keys at a time. A store whose listing fails is recorded in
 * `unavailable` (by index) and treated as holding nothing more: the pass goes on without it.
 */
export async function walkKeys(
  stores: ReadonlyArray<{ store: BlobStore }>,
  options: KeyWalkOptions,
  unavailable: Map<number, string>,
  visit: (entry: MergedEntry) => Promise<void>,
): Promise<void> {
  const prefix = options.prefix ?? '';
  validateBlobPrefix(prefix);
  const listings = stores.map(({ store }) => store.list(prefix));
  const entries = mergeListings(listings, (source, error) => unavailable.set(source, errorMessage(error)))[Symbol.asyncIterator]();
  const { signal, pace } = options;
  // The first failure stops every worker before its next key; the pass ends when all have stopped.
  let failure: { error: unknown } | undefined;
  // Workers share the one merged listing; an async generator queues concurrent next() calls.
  const worker = async () => {
    try {
      for (;;) {
        await pace?.();
        if (signal?.aborted || failure) return;
        const next = await entries.next();
        if (next.done) return;
        await visit(next.value);
      }
    } catch (error) {
      failure ??= { error };
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
  } finally {
    await entries.return(undefined);
  }
  if (failure) throw failure.error;
  signal?.throwIfAborted();
}
