import { setImmediate as yieldToLoop } from 'node:timers/promises';

/** How long a walk holds the event loop before it gives other work a turn. */
const HOLD_MS = 10;

/**
 * Gives the event loop a turn once a walk has held it for a few milliseconds, measured rather
 * than counted: entries of a huge tree, trees opened one inside another, each costs differently.
 * Shared by every tree a walk opens (and by the walks of one task): a walk through many small
 * trees never holds the loop long in any one of them, yet adds up to as much.
 */
export class LoopPacer {
  private lastTurn = performance.now();

  constructor(private readonly holdMs = HOLD_MS) {}

  async step(): Promise<void> {
    if (performance.now() - this.lastTurn < this.holdMs) return;
    await yieldToLoop();
    this.lastTurn = performance.now();
  }
}
