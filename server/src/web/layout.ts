import type { Request, Response } from 'express';
import { requestActor } from '../auth/index.js';
import { assetUrl } from './assets.js';
import { html, type Html, type HtmlValue } from './html.js';
import { csrfToken } from './session.js';

/**
 * Pages run no inline script and load nothing from elsewhere but images (README badges):
 * even markup that slipped through escaping could not run.
 */
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' https: data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export interface PageOptions {
  title: string;
  body: Html;
  /** Extra class on <main>, e.g. "narrow". */
  mainClass?: string;
}

/** The hidden field every POST form carries (see session.ts). */
export function csrfField(req: Request): Html {
  return html`<input type="hidden" name="_csrf" value="${csrfToken(req)}">`;
}

/** A local URL to come back to after signing in: this page. */
export function loginUrl(returnTo: string): string {
  return `/login?return_to=${encodeURIComponent(returnTo)}`;
}

function header(req: Request): Html {
  const actor = requestActor(req);
  // A token is no web sign-in (repo-context.ts): its error page shows the visitor as signed out.
  if (!actor || actor.via === 'token') {
    return html`<header id="site-header"><a id="home-link" href="/">Gitfleet</a>
<nav><a id="sign-in-link" href="${req.path === '/login' ? '/login' : loginUrl(req.originalUrl)}">Sign in</a></nav></header>`;
  }
  const name = actor.user.name;
  return html`<header id="site-header"><a id="home-link" href="/">Gitfleet</a>
<nav>
<a id="new-repository-link" href="/new">New repository</a>
<details id="user-menu"><summary data-user="${name}">${name}</summary>
<div class="menu">
<a id="profile-link" href="/${encodeURIComponent(name)}">Your profile</a>
<a href="/">Your repositories</a>
<a id="new-organization-link" href="/organizations/new">New organization</a>
<a id="tokens-link" href="/settings/tokens">Access tokens</a>
<form id="logout-form" method="post" action="/logout">${csrfField(req)}<button type="submit" id="sign-out-button">Sign out</button></form>
</div></details>
</nav></header>`;
}

export function renderPage(req: Request, options: PageOptions): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · Gitfleet</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${assetUrl('gitfleet.css')}">
<script src="${assetUrl('gitfleet.js')}" defer></script>
</head><body>
${header(req)}
<main id="main" class="${options.mainClass ?? ''}">
${options.body}
</main>
<footer>Gitfleet</footer>
</body></html>`;
}

/** Sends a full page. Pages depend on who asks: never cached by shared caches. */
export function sendPage(req: Request, res: Response, options: PageOptions & { status?: number }): void {
  res.status(options.status ?? 200);
  res.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.set('X-Content-Type-Options', 'nosniff');
  res.set('Referrer-Policy', 'same-origin');
  res.set('Cache-Control', 'private, no-cache');
  res.type('text/html; charset=utf-8').send(renderPage(req, options).text);
}

export function flash(kind: 'error' | 'success' | 'warn', message: HtmlValue): Html {
  return html`<div class="flash flash-${kind}" role="${kind === 'error' ? 'alert' : 'status'}" id="flash-${kind}">${message}</div>`;
}

/** "3 minutes ago"-style is client-side work; a plain, unambiguous date is enough here. */
export function formatDate(iso: string): Html {
  const date = new Date(iso);
  const text = Number.isNaN(date.getTime()) ? iso : date.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
  return html`<time datetime="${iso}">${text}</time>`;
}
