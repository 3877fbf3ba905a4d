import type { Request } from 'express';

/**
 * How a request answered before it was read whole (a push refused while its pack arrives) is
 * still read and thrown away: while the client keeps sending, for at most LINGER_TOTAL_MS, and
 * until it pauses for LINGER_IDLE_MS. A connection closed at once would answer the bytes the
 * client is still sending with a reset, which can reach the client before it reads the answer:
 * git would then print "RPC failed" instead of the reason. nginx's lingering close
 * (lingering_time, lingering_timeout).
 */
const LINGER_TOTAL_MS = 30_000;
const LINGER_IDLE_MS = 5_000;

/**
 * For a request answered before it was read whole: reads the rest and throws it away, then
 * closes the connection unless the request ended meanwhile (it is then ready for the next).
 */
export function lingerThenClose(req: Request): void {
  const socket = req.socket;
  const close = () => socket.destroy();
  const total = setTimeout(close, LINGER_TOTAL_MS).unref();
  const idle = setTimeout(close, LINGER_IDLE_MS).unref();
  const sending = () => idle.refresh();
  const done = () => {
    clearTimeout(total);
    clearTimeout(idle);
    req.off('data', sending);
    req.off('end', done);
    socket.off('close', done);
  };
  // Straight from the request: a stream it is piped into (a body limit, a parser) would pause it again.
  req.unpipe();
  req.on('data', sending);
  req.resume();
  req.once('end', done);
  socket.once('close', done);
}
