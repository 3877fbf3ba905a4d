import type { ThreadBudget } from '@gitfleet/git-format';

/**
 * The machine's indexing threads as tokens in shared memory, seen by the pool on the main thread
 * and by every indexing thread: a push's own thread holds one while it runs (the pool waits for
 * it), and a push whose pack is worth resolving on several threads takes what is spare, never
 * waiting, and gives it back when its helpers end. Every push thread and helper holds a token,
 * so indexing never runs on more threads than there are tokens.
 */
export class ThreadTokens implements ThreadBudget {
  constructor(readonly cells: Int32Array) {}

  static create(count: number): ThreadTokens {
    const cells = new Int32Array(new SharedArrayBuffer(4));
    cells[0] = count;
    return new ThreadTokens(cells);
  }

  /** Takes one token, waiting for it when none is spare. */
  async acquire(): Promise<void> {
    for (;;) {
      const spare = Atomics.load(this.cells, 0);
      if (spare > 0) {
        if (Atomics.compareExchange(this.cells, 0, spare, spare - 1) === spare) return;
        continue;
      }
      const wait = waitAsync(this.cells, 0, spare);
      if (wait.async) await wait.value;
    }
  }

  take(wanted: number): number {
    for (;;) {
      const spare = Atomics.load(this.cells, 0);
      const taken = Math.min(wanted, spare);
      if (taken <= 0) return 0;
      if (Atomics.compareExchange(this.cells, 0, spare, spare - taken) === spare) return taken;
    }
  }

  giveBack(count: number): void {
    Atomics.add(this.cells, 0, count);
    Atomics.notify(this.cells, 0);
  }
}

// Atomics.waitAsync is in Node since 16; TypeScript's lib has it from es2024 on.
const waitAsync = (Atomics as unknown as { waitAsync(cells: Int32Array, at: number, value: number): WaitResult }).waitAsync;
type WaitResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
