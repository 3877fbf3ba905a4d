import { setImmediate as nextTurn } from 'node:timers/promises';

/** Items a request-sized loop handles between two turns of the event loop, by default. */
const ITEMS_PER_TURN = 1024;

/**
 * Paces a loop whose length the request controls: its awaited lookups often resolve from
 * cache without a real wait, so without a turn now and then other requests would wait for
 * the whole loop.
 */
export class LoopPacer {
  private items = 0;

  /** `itemsPerTurn`: fewer for items that each cost a store call. */
  constructor(private readonly itemsPerTurn = ITEMS_PER_TURN) {}

  /** Counts one item; every `itemsPerTurn` items, lets the event loop turn. */
  async step(): Promise<void> {
    if (++this.items % this.itemsPerTurn === 0) await nextTurn();
  }
}
