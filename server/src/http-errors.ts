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
