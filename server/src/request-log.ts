import type { Socket } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import type { Logger } from './logger.js';
import { withoutSecrets } from './logged-url.js';

/** Why a request was refused (a client error, or a store that could not serve it), logged on the request's own line. */
const refusals = new WeakMap<ServerResponse, string>();

/**
 * Records why `res` answers a refusal (the error, or its message): the request's log line
 * carries it as `reason`. One line per request, refused or not: a burst of refused requests
 * (guessed passwords, say) costs one log write each.
 */
export function noteRefusal(res: ServerResponse, reason: unknown): void {
  refusals.set(res, reason instanceof Error ? reason.message : String(reason));
}

/** Per connection: its byte counts when its previous request was logged. */
const countedUpTo = new WeakMap<Socket, { read: number; written: number }>();

/** Logs the request once it is over (see requestLog); `url` as the client sent it, `started` when it arrived. */
export function logRequestWhenOver(
  logger: Logger,
  req: IncomingMessage,
  res: ServerResponse,
  url: string,
  started: bigint = process.hrtime.bigint(),
): void {
  const socket = req.socket;
  let logged = false;
  const log = () => {
    if (logged) return;
    logged = true;
    const before = countedUpTo.get(socket) ?? { read: 0, written: 0 };
    const now = { read: socket.bytesRead, written: socket.bytesWritten };
    countedUpTo.set(socket, now);
    // A 5xx is the server failing its client (a store out of reach, a bound reached, a bug): an operator watches for those.
    const level = res.statusCode >= 500 ? 'warn' : 'info';
    logger[level](
      {
        method: req.method,
        path: withoutSecrets(url),
        status: res.statusCode,
        duration_ms: Number(process.hrtime.bigint() - started) / 1e6,
        bytes_in: now.read - before.read,
        bytes_out: now.written - before.written,
        completed: res.writableFinished,
        reason: refusals.get(res),
      },
      'request',
    );
  };
  res.once('finish', log);
  res.once('close', log);
}

/**
 * One JSON line per request once it is over (finished or cut off). Byte counts are taken
 * from the connection (headers included) since the previous request on it ended: by the
 * time a handler runs, the socket has already read this request's headers.
 */
export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    logRequestWhenOver(logger, req, res, req.originalUrl);
    next();
  };
}
