import { Router, type Request, type Response } from 'express';
import { SESSION_COOKIE, requestActor } from '../auth/index.js';
import { HttpError } from '../http-errors.js';
import type { ServerServices } from '../services.js';
import { field, parseForm } from './forms.js';
import { html } from './html.js';
import { flash, sendPage } from './layout.js';
import { checkCsrf, sessionCookieValue } from './session.js';
import { isLocalPath } from './urls.js';

/** Sign in (GET/POST /login) and out (POST /logout). */
export function sessionPages(services: ServerServices): Router {
  const router = Router();

  router.get('/login', (req, res) => {
    const returnTo = localReturnTo(req.query.return_to);
    if (requestActor(req)) {
      res.redirect(303, returnTo);
      return;
    }
    loginPage(req, res, { returnTo });
  });

  router.post('/login', parseForm, async (req, res) => {
    refuseForeignOrigin(services, req);
    const username = field(req, 'username');
    const password = typeof req.body?.password === 'string' ? (req.body.password as string) : '';
    const returnTo = localReturnTo(req.body?.return_to);
    const ip = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    try {
      await services.throttle.check(ip, username);
    } catch (error) {
      if (!(error instanceof HttpError) || error.status !== 429) throw error;
      const retryAfter = (error as HttpError & { retryAfterSeconds?: number }).retryAfterSeconds;
      if (retryAfter !== undefined) res.set('Retry-After', String(retryAfter));
      loginPage(req, res, { returnTo, username, status: 429, error: 'Too many failed sign-in attempts. Wait a few minutes and try again.' });
      return;
    }
    const user = username === '' || password === '' ? undefined : await services.accounts.verifyPassword(username, password);
    if (!user) {
      await services.throttle.recordFailure(ip, username);
      loginPage(req, res, { returnTo, username, status: 401, error: 'Incorrect username or password.' });
      return;
    }
    await services.throttle.recordSuccess(ip, username);
    const session = await services.accounts.createSession(user.name);
    res.cookie(SESSION_COOKIE, session.cookieValue, {
      httpOnly: true,
      sameSite: 'lax',
      path: '/',
      secure: req.secure,
      expires: new Date(session.expiresAt),
    });
    res.redirect(303, returnTo);
  });

  router.post('/logout', parseForm, async (req, res) => {
    checkCsrf(req);
    const session = sessionCookieValue(req);
    if (session) await services.accounts.deleteSession(session);
    res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', path: '/', secure: req.secure });
    res.redirect(303, '/');
  });

  return router;
}

/**
 * Signing in has no session to protect yet, so the auth middleware's same-origin check does not
 * apply; another site must still not sign a visitor in to an account of its choosing.
 */
function refuseForeignOrigin(services: ServerServices, req: Request): void {
  const origin = req.get('Origin');
  if (origin === undefined) return;
  const own = [services.baseUrl(req), `${req.protocol}://${req.get('host') ?? ''}`].map((url) => {
    try {
      return new URL(url).origin;
    } catch {
      return undefined;
    }
  });
  if (!own.includes(origin)) throw new HttpError(403, `sign-in refused: the form was posted from another site (${origin})`);
}

/** Where to go after signing in: a path on this site only (never an open redirect). */
function localReturnTo(value: unknown): string {
  return isLocalPath(value) && !value.startsWith('/login') ? value : '/';
}

function loginPage(req: Request, res: Response, options: { returnTo: string; username?: string; status?: number; error?: string }): void {
  const body = html`<div class="auth-box"><h1>Sign in to Gitfleet</h1>
${options.error ? flash('error', options.error) : ''}
<form id="login-form" class="stacked" method="post" action="/login">
<input type="hidden" name="return_to" value="${options.returnTo}">
<label for="login-username">Username</label>
<input type="text" id="login-username" name="username" value="${options.username ?? ''}" autocomplete="username" autocapitalize="none" required autofocus>
<label for="login-password">Password</label>
<input type="password" id="login-password" name="password" autocomplete="current-password" required>
<button type="submit" class="btn btn-primary" id="login-submit">Sign in</button>
</form></div>`;
  sendPage(req, res, { title: 'Sign in', body, status: options.status });
}
