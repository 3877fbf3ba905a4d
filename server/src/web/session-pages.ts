import { Router, type Request, type Response } from 'express';
import { SESSION_COOKIE, clientIp, sessionCookieOptions } from '../auth/index.js';
import { HttpError } from '../http-errors.js';
import type { ServerServices } from '../services.js';
import { field, parseForm, untrimmedField } from './forms.js';
import { html } from './html.js';
import { flash, sendPage } from './layout.js';
import { visitor } from './repo-context.js';
import { checkCsrf, sessionCookieValue } from './session.js';
import { isLocalPath } from './urls.js';

/** Sign in (GET/POST /login) and out (POST /logout). */
export function sessionPages(services: ServerServices): Router {
  const router = Router();

  router.get('/login', (req, res) => {
    const returnTo = localReturnTo(req.query.return_to);
    if (visitor(req)) {
      res.redirect(303, returnTo);
      return;
    }
    loginPage(req, res, { returnTo });
  });

  router.post('/login', parseForm, async (req, res) => {
    const username = field(req, 'username');
    const password = untrimmedField(req, 'password');
    const returnTo = localReturnTo(untrimmedField(req, 'return_to'));
    const ip = clientIp(req);
    let session: { cookieValue: string; expiresAt: string } | undefined;
    try {
      if (username === '' || password === '') await services.logins.countFailure(ip, username);
      else
        session = await services.logins.verify(ip, username, () =>
          services.accounts.signIn(username, password, { ttlMs: services.config.sessionTtlMs }),
        );
    } catch (error) {
      if (!(error instanceof HttpError) || (error.status !== 429 && error.status !== 503)) throw error;
      const seconds = Math.ceil(error.retryAfterSeconds ?? 1);
      res.set('Retry-After', String(seconds));
      const why = error.status === 429 ? 'Too many sign-in attempts.' : 'The server is busy signing people in.';
      loginPage(req, res, {
        returnTo,
        username,
        status: error.status,
        error: `${why} Try again in ${seconds} second${seconds === 1 ? '' : 's'}.`,
      });
      return;
    }
    if (!session) {
      loginPage(req, res, { returnTo, username, status: 401, error: 'Incorrect username or password.' });
      return;
    }
    res.cookie(SESSION_COOKIE, session.cookieValue, { ...sessionCookieOptions(services, req), expires: new Date(session.expiresAt) });
    res.redirect(303, returnTo);
  });

  router.post('/logout', parseForm, async (req, res) => {
    checkCsrf(req);
    const session = sessionCookieValue(req);
    if (session) await services.accounts.deleteSession(session);
    res.clearCookie(SESSION_COOKIE, sessionCookieOptions(services, req));
    res.redirect(303, '/');
  });

  return router;
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
