import type { ServerResponse } from 'node:http';
import { InvalidRepositoryName, validateRepositoryName } from '@gitfleet/repository';

/** An HTTP answer to give instead of a normal response; `message` is shown to the client. */
export class HttpError extends Error {
  /** Extra response headers: a 401's WWW-Authenticate challenge, say. */
  readonly headers: Readonly<Record<string, string>>;
  /** Sent as Retry-After (a 429 of the login throttle). */
  readonly retryAfterSeconds?: number;

  constructor(
    readonly status: number,
    message: string,
    options: { headers?: Record<string, string>; retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.name = 'HttpError';
    this.headers = options.headers ?? {};
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/**
 * Answers `error` on a response that express never saw (the connection gate, the early refusal
 * of password guesses): its status, its message as JSON `{message}` or as a line of text, its
 * Retry-After, and `Connection: close` when asked (a request body left unread, a connection
 * refused).
 */
export function answerHttpError(res: ServerResponse, error: HttpError, options: { json: boolean; close: boolean }): void {
  const body = options.json ? JSON.stringify({ message: error.message }) : `${error.message}\n`;
  res.writeHead(error.status, {
    ...error.headers,
    'content-type': options.json ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...(error.retryAfterSeconds === undefined ? {} : { 'retry-after': String(Math.ceil(error.retryAfterSeconds)) }),
    ...(options.close ? { connection: 'close' } : {}),
  });
  res.end(body);
}

/**
 * HttpError 400 with the validator's reason for an owner or repository name of a request (its
 * URL, or the body of POST /repos) that is not allowed: the request is malformed.
 */
export function checkName(owner: string, name: string): void {
  try {
    validateRepositoryName(owner, name);
  } catch (error) {
    if (error instanceof InvalidRepositoryName) throw new HttpError(400, error.message);
    throw error;
  }
}
