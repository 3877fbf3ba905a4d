import type { AccessLevel } from '@gitfleet/accounts';
import type { Repository } from '@gitfleet/repository';

export const SESSION_COOKIE = 'gitfleet_session';
export const AUTH_REALM = 'Gitfleet';

/**
 * Login attempts throttle, shared by the fleet when the KV store is Redis (in-process otherwise).
 * An attempt spends its point before the credential is checked, so that a burst of attempts
 * sent together is cut at the limit just as a slow series is.
 */
export interface LoginThrottle {
  /**
   * Spends one attempt of `ip` (and of `user` from `ip`); throws HttpError 429 (with
   * retryAfterSeconds) when either has none left. Atomic in the store.
   */
  consume(ip: string, user?: string): Promise<void>;
  /** The attempt was right: it gives the address its point back and forgets the user's failures. */
  recordSuccess(ip: string, user?: string): Promise<void>;
  close(): Promise<void>;
}

export interface AuthorizedRepository {
  repo: Repository;
  /** The actor's level (already checked to be at least the one asked for). */
  access: AccessLevel;
}
