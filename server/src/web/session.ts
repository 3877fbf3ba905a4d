import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { parse as parseCookies } from 'cookie';
import { SESSION_COOKIE, requestActor } from '../auth/index.js';
import { HttpError } from '../http-errors.js';
import { untrimmedField } from './forms.js';

/** The web session cookie's value, if the request carries one. */
export function sessionCookieValue(req: Request): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  return parseCookies(header)[SESSION_COOKIE] || undefined;
}

/**
 * The CSRF token of the request's session: a hash of the session secret, which only the
 * session's own pages (never another site) can know. It needs no server-side state and is the
 * same on every server of a fleet. Empty without a session.
 */
export function csrfToken(req: Request): string {
  const session = sessionCookieValue(req);
  return session ? createHash('sha256').update(`gitfleet-csrf\0${session}`).digest('base64url') : '';
}

/**
 * Refuses (403) a form posted with the session cookie but without the session's CSRF token.
 * The auth middleware already refuses cross-origin posts; this also covers browsers that send
 * neither Origin nor Referer.
 */
export function checkCsrf(req: Request): void {
  if (requestActor(req)?.via !== 'session') return;
  const expected = Buffer.from(csrfToken(req));
  const sent = Buffer.from(untrimmedField(req, '_csrf'));
  if (sent.length !== expected.length || !timingSafeEqual(sent, expected)) {
    throw new HttpError(403, 'the form expired or came from another site (CSRF token mismatch): reload the page and try again');
  }
}
