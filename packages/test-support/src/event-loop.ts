/**
 * What the tests accept as the longest turn of the event loop while a bounded request runs.
 * Above the 100 ms the server aims for because the test machine is shared (a process waiting
 * for a core shows as lag too); work done on the loop instead of a worker holds it for
 * seconds, far above this.
 */
export const MAX_LOOP_HOLD_MS = 250;

/**
 * How long this process's event loop was held while `work` ran: the longest delay of a 5 ms
 * timer. A server in the same process that does CPU work on its loop shows it here.
 */
export async function loopLagDuring<T>(work: () => Promise<T>): Promise<{ value: T; maxLagMs: number }> {
  let maxLagMs = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    maxLagMs = Math.max(maxLagMs, now - last - 5);
    last = now;
  }, 5);
  try {
    const value = await work();
    // The last stretch too: work that holds the loop to its end never lets the timer run.
    maxLagMs = Math.max(maxLagMs, performance.now() - last - 5);
    return { value, maxLagMs };
  } finally {
    clearInterval(timer);
  }
}

/** The longest the event loop went without a turn (sampled every 10 ms) while `work` ran. */
export async function maxEventLoopGap(work: () => Promise<void>): Promise<number> {
  let longest = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 10);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(longest, performance.now() - last);
}
