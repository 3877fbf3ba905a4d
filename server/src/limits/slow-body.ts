import type { RequestHandler } from 'express';
import { HttpError } from '../http-errors.js';

export interface BodyRateLimits {
  /** The window over which a request body's rate is measured. */
  windowMs: number;
  /** Bytes per second a request body must average over each window while the server reads it. */
  minBytesPerSecond: number;
}

/** How long a refused connection may take to receive its answer before it is cut. */
const ANSWER_GRACE_MS = 5000;

/**
 * Cuts off request bodies that trickle in (slowloris on the body), as Apache's mod_reqtimeout
 * MinRate does: while the server is reading a body, each window must bring
 * `minBytesPerSecond × window` bytes. Time the server is not reading (it has not started, or
 * is still busy with what it read) does not count against the client.
 *
 * The reader of the body (request-body.ts, the JSON and form parsers) is handed a 408
 * HttpError through the request's 'error' event and answers with it; the connection is closed
 * after the answer, or cut if no answer can be given.
 */
export function slowBodyGuard({ windowMs, minBytesPerSecond }: BodyRateLimits): RequestHandler {
  const tickMs = Math.min(windowMs, 1000);
  const minBytes = (minBytesPerSecond * windowMs) / 1000;
  return (req, res, next) => {
    if (!hasBody(req.headers) || req.complete) return next();
    const socket = req.socket;
    let seenBytes = socket.bytesRead;
    let windowBytes = 0;
    let waitedMs = 0;
    const timer = setInterval(() => {
      if (req.complete) return stop();
      windowBytes += socket.bytesRead - seenBytes;
      seenBytes = socket.bytesRead;
      if (req.readableFlowing !== true) return;
      waitedMs += tickMs;
      if (waitedMs < windowMs) return;
      if (windowBytes >= minBytes) {
        waitedMs = 0;
        windowBytes = 0;
        return;
      }
      stop();
      const error = new HttpError(408, `request body arrived slower than ${minBytesPerSecond} bytes/s over ${windowMs / 1000} s; closing the connection`);
      const cut = setTimeout(() => socket.destroy(), ANSWER_GRACE_MS).unref();
      socket.once('close', () => clearTimeout(cut));
      if (res.headersSent || req.listenerCount('error') === 0) {
        socket.destroy();
        return;
      }
      res.setHeader('Connection', 'close');
      req.emit('error', error);
    }, tickMs);
    timer.unref();
    const stop = () => clearInterval(timer);
    // Not stopped by the answer: a body still arriving after it (drained to keep the connection) is held to the same rate.
    req.once('end', stop);
    socket.once('close', stop);
    next();
  };
}

function hasBody(headers: Record<string, string | string[] | undefined>): boolean {
  return headers['transfer-encoding'] !== undefined || Number(headers['content-length'] ?? 0) > 0;
}
