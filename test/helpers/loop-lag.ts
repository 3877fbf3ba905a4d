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
    return { value: await work(), maxLagMs };
  } finally {
    clearInterval(timer);
  }
}
