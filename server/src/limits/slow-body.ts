import type { IncomingMessage, ServerResponse } from 'node:http';
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
 * A reader that registered with onBodyTooSlow (request-body.ts) is handed the 408 and answers
 * with it; otherwise (the JSON and form parsers, which would wait for the whole body before
 * failing) the 408 is answered here. The connection is closed after the answer, or cut if no
 * answer can be given.
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
      refuse(
        req,
        res,
        new HttpError(
          408,
          `request body arrived slower than ${minBytesPerSecond} bytes/s over ${windowMs / 1000} s; closing the connection`,
        ),
      );
    }, tickMs);
    timer.unref();
    // Detached from the socket too: a keep-alive connection carries request after request, and a
    // listener left per request would hold each one's closure until the connection closed.
    const stop = () => {
      clearInterval(timer);
      req.off('end', stop);
      socket.off('close', stop);
    };
    // Not stopped by the answer: a body still arriving after it (drained to keep the connection) is held to the same rate.
    req.once('end', stop);
    socket.once('close', stop);
    next();
  };
}

const readers = new WeakMap<IncomingMessage, (error: HttpError) => void>();

/** Lets the reader of `req`'s body give the answer when the body is too slow: `answer` stops reading and fails the request with the error. */
export function onBodyTooSlow(req: IncomingMessage, answer: (error: HttpError) => void): void {
  readers.set(req, answer);
}

function refuse(req: IncomingMessage, res: ServerResponse, error: HttpError): void {
  const socket = req.socket;
  const cut = setTimeout(() => socket.destroy(), ANSWER_GRACE_MS).unref();
  socket.once('close', () => clearTimeout(cut));
  if (res.headersSent) {
    socket.destroy();
    return;
  }
  res.setHeader('Connection', 'close');
  const reader = readers.get(req);
  if (reader) {
    reader(error);
    return;
  }
  const body = JSON.stringify({ message: error.message });
  res.writeHead(error.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function hasBody(headers: Record<string, string | string[] | undefined>): boolean {
  return headers['transfer-encoding'] !== undefined || Number(headers['content-length'] ?? 0) > 0;
}
