import type { BlobInfo } from '../blob-store.js';

/** One key found in the merged listings, with the listings (by index) that hold it. */
export interface MergedEntry {
  key: string;
  copies: Array<{ source: number; size: number }>;
}

/**
 * Merges listings that are each in key order into one listing in key order, one entry per
 * distinct key. Streams: holds one pending entry per listing, never a whole listing.
 * `onError`, when given, turns a failing listing into an exhausted one (the caller learns
 * which one failed); without it the merge rejects.
 */
export async function* mergeListings(
  listings: ReadonlyArray<AsyncIterable<BlobInfo>>,
  onError?: (source: number, error: unknown) => void,
): AsyncGenerator<MergedEntry> {
  const iterators = listings.map((listing) => listing[Symbol.asyncIterator]());
  const heads: Array<BlobInfo | undefined> = new Array<BlobInfo | undefined>(listings.length);
  const advance = async (source: number): Promise<void> => {
    try {
      const next = await iterators[source].next();
      heads[source] = next.done ? undefined : next.value;
    } catch (error) {
      heads[source] = undefined;
      if (!onError) throw error;
      onError(source, error);
    }
  };
  try {
    await Promise.all(iterators.map((_, source) => advance(source)));
    for (;;) {
      let smallest: string | undefined;
      for (const head of heads) if (head && (smallest === undefined || head.key < smallest)) smallest = head.key;
      if (smallest === undefined) return;
      const copies: MergedEntry['copies'] = [];
      for (const [source, head] of heads.entries()) if (head?.key === smallest) copies.push({ source, size: head.size });
      yield { key: smallest, copies };
      await Promise.all(copies.map(({ source }) => advance(source)));
    }
  } finally {
    // A consumer that stops early (or a failure) must not leave listings open.
    await Promise.allSettled(iterators.map(async (iterator) => iterator.return?.()));
  }
}
