import { TaskPool, ownBytes, type PoolStats, type TaskPoolOptions } from './task-pool.js';
import type { LineDiffBounds } from './line-diff.js';
import type { LineDiffOutcome, LineDiffTask } from './line-diff-worker.js';

export type { LineDiffOutcome } from './line-diff-worker.js';

/**
 * A thread stopped past its own bound plus this: a diff honours its timeout between steps, so
 * only a single step longer than this (or a long wait in the queue) trips it.
 */
const HARD_TIMEOUT_GRACE_MS = 10_000;

/** Line diffs off the event loop: one task per file, a bounded queue (PoolBusy beyond it). */
export class LineDiffPool {
  private readonly pool: TaskPool<LineDiffTask, LineDiffOutcome>;

  constructor(options: TaskPoolOptions) {
    this.pool = new TaskPool('diff workers', new URL(import.meta.resolve('./line-diff-worker.js')), options);
  }

  diff(oldBytes: Buffer, newBytes: Buffer, bounds: LineDiffBounds): Promise<LineDiffOutcome> {
    return this.pool.run({ old: ownBytes(oldBytes), new: ownBytes(newBytes), bounds }, bounds.timeoutMs + HARD_TIMEOUT_GRACE_MS);
  }

  stats(): PoolStats {
    return this.pool.stats();
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
