/** What a pack was made of, for the "Total" line git prints after it. */
export interface PackStats {
  total: number;
  deltas: number;
  /** Entries copied as stored (header possibly rewritten). */
  reused: number;
  reusedDeltas: number;
  /** Bytes of the pack, header and trailer included. */
  bytes: number;
  /** Bytes of entries copied as stored (pack reuse). */
  copiedBytes: number;
  /** Bytes of entries resolved and deflated afresh. */
  recompressedBytes: number;
}

/**
 * Told of every pack streamed whole to a client, with what it was made of: how monitoring counts
 * pack reuse without this package knowing of any metrics library. One per process, set by the
 * server; none by default.
 */
export interface PackOutputObserver {
  packWritten(stats: PackStats): void;
}

let current: PackOutputObserver | undefined;

/** Sets the observer of the process's packs (undefined: none). */
export function observePackOutput(observer: PackOutputObserver | undefined): void {
  current = observer;
}

export function reportPackWritten(stats: PackStats): void {
  current?.packWritten(stats);
}
