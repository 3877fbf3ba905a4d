import type { PackStats } from './write.js';

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
