/**
 * How the API answers failures: `{"message": …}` (GitHub's and Gitea's shape) with the status
 * operations/errors.ts gives each kind of error, so that handlers can simply let them fly.
 */
import type { ErrorRequestHandler, Response } from 'express';
import { AccountConflict } from '@gitfleet/accounts';
import { HttpError } from '../http-errors.js';
import { lingerThenClose } from '../lingering-close.js';
import { noteRefusal } from '../request-log.js';
import { httpStatusOf, refusalMessage, retryAfterHeader } from '../operations/errors.js';

/**
 * Runs a creation: a name already taken is 422, as Gitea answers a create whose name exists
 * (elsewhere an AccountConflict is 409).
 */
export async function creating<T>(create: () => Promise<T>): Promise<T> {
  try {
    return await create();
  } catch (error) {
    if (error instanceof AccountConflict) throw new HttpError(422, error.message);
    throw error;
  }
}

/**
 * Answers the API's client errors itself, with the headers an HttpError may carry (a 429's
 * Retry-After); server faults go on to the application's error handler, which logs them.
 * `send` writes the body (Git LFS answers the same `{message}` under its own media type).
 */
export function apiErrorHandler(
  send: (res: Response, status: number, message: string) => void = (res, status, message) => res.status(status).json({ message }),
): ErrorRequestHandler {
  return (error, req, res, next) => {
    const status = httpStatusOf(error);
    if (status === undefined || res.headersSent) {
      next(error);
      return;
    }
    noteRefusal(res, error);
    res.set(retryAfterHeader(error));
    const headers = (error as { headers?: unknown }).headers;
    if (headers && typeof headers === 'object') res.set(headers as Record<string, string>);
    if (!req.complete) lingerThenClose(req);
    send(res, status, refusalMessage(error));
  };
}
