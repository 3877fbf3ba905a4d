import type { Request } from 'express';

/**
 * How long the rest of a request answered before it was read whole (a push refused while its
 * pack arrives) is still read and thrown away. A connection closed at once would answer the
 * bytes the client is still sending with a reset, which can reach the client before it reads
 * the answer: git would then print "RPC failed" instead of the reason. nginx's lingering close.
 */
const LINGER_MS = 5_000;

/**
 * For a request answered before it was read whole: reads the rest and throws it away, and closes
 * the connection unless the client finishes sending it within LINGER_MS.
 */
export function lingerThenClose(req: Request): void {
  req.resume();
  const timer = setTimeout(() => req.socket.destroy(), LINGER_MS);
  const done = () => clearTimeout(timer);
  req.once('end', done);
  req.once('close', done);
}
