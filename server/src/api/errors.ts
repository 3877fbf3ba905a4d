/**
 * How the API answers failures: `{"message": …}` with the status each kind of error calls for
 * (GitHub's and Gitea's shape). Errors of the account and repository packages are mapped here so
 * that handlers can simply let them fly.
 */
import type { ErrorRequestHandler } from 'express';
import { AccountConflict, AccountNotFound, InvalidAccountInput } from '@gitfleet/accounts';
import { PoolBusy } from '@gitfleet/browse';
import { StatusesBusy } from '@gitfleet/events';
import { InvalidRepositoryName, ObjectReadsBusy, RepositoryExists } from '@gitfleet/repository';
import { HttpError } from '../http-errors.js';
import type { Logger } from '../logger.js';

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

/** The status of a known error, undefined for anything else (a server fault or another router's concern). */
function statusOf(error: unknown): number | undefined {
  if (error instanceof HttpError) return error.status;
  if (error instanceof AccountNotFound) return 404;
  if (error instanceof AccountConflict || error instanceof RepositoryExists) return 409;
  if (error instanceof InvalidAccountInput || error instanceof InvalidRepositoryName) return 422;
  // Reading is at its bounds (worker queue, bytes rebuilt in memory): nothing is wrong with the request.
  if (error instanceof PoolBusy || error instanceof ObjectReadsBusy || error instanceof StatusesBusy) return 503;
  // body-parser marks an unreadable body (bad JSON 400, too large 413) with its status.
  const status = (error as { status?: unknown } | undefined)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) return status;
  return undefined;
}

/**
 * Answers the API's client errors itself, with the headers an HttpError may carry (a 429's
 * Retry-After); server faults go on to the application's error handler, which logs them.
 */
export function apiErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, next) => {
    const status = statusOf(error);
    if (status === undefined || res.headersSent) {
      next(error);
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    logger.info({ method: req.method, path: req.originalUrl, status, reason: message }, 'request refused');
    const retryAfter = (error as { retryAfterSeconds?: unknown }).retryAfterSeconds;
    if (typeof retryAfter === 'number') res.set('Retry-After', String(Math.ceil(retryAfter)));
    const headers = (error as { headers?: unknown }).headers;
    if (headers && typeof headers === 'object') res.set(headers as Record<string, string>);
    if (!req.complete) res.set('Connection', 'close');
    res.status(status).json({ message });
  };
}
