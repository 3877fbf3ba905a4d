import { setImmediate as yieldToLoop } from 'node:timers/promises';

/** How long a loop holds the event loop before it gives other work a turn. */
const HOLD_MS = 10;

/**
 * Paces a loop whose length the input controls (a request's wants or refs, a tree's entries, a
 * push's events): its awaited lookups often resolve at once (caches, SQLite), so without a turn
 * now and then every other request would wait for the whole loop. The turn comes once the loop
 * has held the event loop for a few milliseconds, measured rather than counted, since items
 * cost differently (a tree entry, a store call, trees opened one inside another). One pacer may
 * be shared by all the loops of one task: many short loops add up to as much as a long one.
 */
export class LoopPacer {
  private lastTurn = performance.now();

  /**
   * With `signal`, a step after the turn throws its reason once it is aborted: a task stopped
   * while in a long loop (a server shutting down mid-repack) learns it within a turn.
   */
  constructor(
    private readonly holdMs = HOLD_MS,
    private readonly signal?: AbortSignal,
  ) {}

  async step(): Promise<void> {
    if (performance.now() - this.lastTurn < this.holdMs) return;
    await yieldToLoop();
    this.lastTurn = performance.now();
    this.signal?.throwIfAborted();
  }
}
