import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Gives the event loop a turn once a stretch of synchronous work has lasted `turnMs`: awaits
 * that resolve at once (cached or in-memory results) never let timers and sockets run, so a
 * long loop of them must yield by itself.
 */
export class Pacer {
  private turnStarted = performance.now();

  constructor(private readonly turnMs: number) {}

  async pace(): Promise<void> {
    if (performance.now() - this.turnStarted < this.turnMs) return;
    await nextTurn();
    this.turnStarted = performance.now();
  }
}
