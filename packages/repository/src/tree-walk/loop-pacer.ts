import { setImmediate as yieldToLoop } from 'node:timers/promises';

/** Entries parsed between two turns of the event loop. */
const ENTRIES_PER_TURN = 4096;

/**
 * Gives the event loop a turn every few thousand steps of one walk. Shared by every tree a walk
 * opens (and by the walks of one task): a walk through many small trees never reaches a
 * per-tree count, yet adds up to as much.
 */
export class LoopPacer {
  private sinceTurn = 0;

  constructor(private readonly stepsPerTurn = ENTRIES_PER_TURN) {}

  async step(steps = 1): Promise<void> {
    this.sinceTurn += steps;
    if (this.sinceTurn < this.stepsPerTurn) return;
    this.sinceTurn = 0;
    await yieldToLoop();
  }
}
