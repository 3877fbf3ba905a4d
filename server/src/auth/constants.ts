import type { AccessLevel } from '@gitfleet/accounts';
import type { Repository } from '@gitfleet/repository';

export const SESSION_COOKIE = 'gitfleet_session';
export const AUTH_REALM = 'Gitfleet';

/** Failed-login throttle, shared by the fleet when the KV store is Redis (in-process otherwise). */
export interface LoginThrottle {
  /** Throws HttpError 429 (with retryAfterSeconds) when `user`@`ip` or `ip` has failed too often lately. */
  check(ip: string, user?: string): Promise<void>;
  recordFailure(ip: string, user?: string): Promise<void>;
  recordSuccess(ip: string, user?: string): Promise<void>;
  close(): Promise<void>;
}

export interface AuthorizedRepository {
  repo: Repository;
  /** The actor's level (already checked to be at least the one asked for). */
  access: AccessLevel;
}
