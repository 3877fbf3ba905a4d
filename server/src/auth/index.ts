/**
 * Who a request is and what it may touch.
 *
 * Rules every router follows:
 * - Credentials: `Authorization: Basic` (user + password, or user + token as the password — the
 *   user name must then be the token's owner), `Authorization: Bearer <token>`,
 *   `Authorization: token <token>` (GitHub's form), or the web session cookie. Wrong credentials
 *   are 401 (never silently anonymous). Every password check (web sign-in, Basic on git and
 *   the API) spends a point of the login throttle first and runs under caps of checks in
 *   flight (login-guard.ts): 429/503 + Retry-After beyond. A session cookie that is no longer
 *   valid leaves the request anonymous (and is cleared), so that a browser is never locked out
 *   of the sign-in page.
 * - Every unsafe request (POST, PUT, PATCH, DELETE) not authenticated by a Bearer/token header
 *   must not come from another site's page (Origin, Sec-Fetch-Site, Referer; same-origin.ts):
 *   403 otherwise (CSRF). The API reads JSON bodies only (415 otherwise).
 * - The web pages take no token credentials (403; web/repo-context.ts `visitor`): tokens are
 *   for the API and git. A new password ends every session of the user; its tokens stay.
 * - Repositories: not found, or not readable by the actor → 404 "repository o/r not found"
 *   (a private repository's existence is never revealed); readable but the permission is short →
 *   403; an anonymous request that needs more than a public repository gives → 401 with
 *   `WWW-Authenticate: Basic realm="Gitfleet"` on git routes (so git prompts / asks its
 *   credential helper), 404 on API routes for reads and 401 for writes.
 * - Tokens are capped by their scopes: repository reads need read:repository, writes (push
 *   included) write:repository, account endpoints read/write:user, organisations
 *   read/write:organization, site administration read/write:admin. Missing scope → 403 naming it.
 */
export { SESSION_COOKIE, AUTH_REALM, type LoginThrottle, type AuthorizedRepository } from './constants.js';
export { LoginGuard, passwordCheckTurns } from './login-guard.js';
export { refusingGuessesEarly } from './early-refusal.js';
export { sessionCookieOptions } from './session-cookie.js';
export { authenticate, requestActor, clientIp } from './authenticate.js';
export { requireActor, requireSiteAdmin, authorizeRepository } from './access.js';
export { unauthorized } from './challenge.js';
export { readCredentials, parseAuthorization, type Credentials } from './credentials.js';
export { createLoginThrottle } from './throttle.js';
export { bootstrapAdmin, BOOTSTRAP_TOKEN_NAME } from './bootstrap.js';
