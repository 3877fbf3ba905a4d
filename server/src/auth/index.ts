/**
 * Who a request is and what it may touch. CONTRACT (server/src/auth/*): the owner of the auth
 * files replaces these `declare`d stubs with modules of their own and re-exports them here.
 *
 * Rules every router follows:
 * - Credentials: `Authorization: Basic` (user + password, or user + token as the password — the
 *   user name must then be the token's owner), `Authorization: Bearer <token>`,
 *   `Authorization: token <token>` (GitHub's form), or the web session cookie. Wrong credentials
 *   are 401 (never silently anonymous) and count towards the failed-login throttle (429 +
 *   Retry-After once over it).
 * - A request authenticated by the session cookie with an unsafe method (POST, PUT, PATCH,
 *   DELETE) must come from the same origin (Origin or Referer header): 403 otherwise (CSRF).
 * - Repositories: not found, or not readable by the actor → 404 "repository o/r not found"
 *   (a private repository's existence is never revealed); readable but the permission is short →
 *   403; an anonymous request that needs more than a public repository gives → 401 with
 *   `WWW-Authenticate: Basic realm="Gitfleet"` on git routes (so git prompts / asks its
 *   credential helper), 404 on API routes for reads and 401 for writes.
 * - Tokens are capped by their scopes: repository reads need read:repository, writes (push
 *   included) write:repository, account endpoints read/write:user, organisations
 *   read/write:organization, site administration read/write:admin. Missing scope → 403 naming it.
 */
import type { Request, RequestHandler } from 'express';
import type { AccessLevel, Actor, Permission, TokenScope } from '@gitfleet/accounts';
import type { Repository } from '@gitfleet/repository';
import type { ServerServices } from '../services.js';

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

/** Resolves every request's actor (or anonymous) before any router runs. */
export declare function authenticate(services: ServerServices): RequestHandler;
/** The request's actor, undefined when anonymous. */
export declare function requestActor(req: Request): Actor | undefined;
/** The actor; 401 (with WWW-Authenticate) when anonymous, 403 when a token lacks `scope`. */
export declare function requireActor(req: Request, scope?: TokenScope): Actor;
/** A site administrator (403 otherwise; 401 when anonymous). */
export declare function requireSiteAdmin(req: Request, scope?: TokenScope): Actor;

export interface AuthorizedRepository {
  repo: Repository;
  /** The actor's level (already checked to be at least the one asked for). */
  access: AccessLevel;
}

/**
 * Opens owner/name ("name.git" accepted) for a request that needs `needed`, applying the rules
 * above. `surface` picks 401-with-challenge (git) or the API's answers for anonymous requests.
 */
export declare function authorizeRepository(
  services: ServerServices,
  req: Request,
  owner: string,
  name: string,
  needed: Permission,
  surface: 'git' | 'api' | 'web',
): Promise<AuthorizedRepository>;
