import type { RequestHandler } from 'express';

/**
 * Cuts a response whose client has stopped reading: when bytes have waited to be sent (the
 * socket's buffer full, `writableNeedDrain`) for `stallMs` without the client taking any, the
 * connection is closed. Whatever the response holds while it is sent — a pack stream, a blob
 * rebuilt in memory within a shared budget, an upload-pack's state — is then released, rather
 * than held until the idle timeout by a client that reads nothing. A slow reader that keeps
 * reading is never cut: any 'drain' starts the wait again.
 */
export function stalledReaderGuard(stallMs: number): RequestHandler {
  const tickMs = Math.max(100, Math.floor(stallMs / 4));
  return (_req, res, next) => {
    let waitingSince: number | undefined;
    const timer = setInterval(() => {
      if (!res.writableNeedDrain) {
        waitingSince = undefined;
        return;
      }
      waitingSince ??= Date.now();
      if (Date.now() - waitingSince >= stallMs) {
        clearInterval(timer);
        res.destroy(new Error(`the client read nothing for ${stallMs / 1000} s of a response waiting to be sent`));
      }
    }, tickMs);
    timer.unref();
    res.on('drain', () => (waitingSince = undefined));
    res.once('close', () => clearInterval(timer));
    next();
  };
}
