import { Router, type Request, type Response } from 'express';
import { AccountConflict, InvalidAccountInput, TOKEN_SCOPES, type Actor, type TokenScope } from '@gitfleet/accounts';
import type { ServerServices } from '../services.js';
import { field, fields, parseForm } from './forms.js';
import { html } from './html.js';
import { csrfField, flash, formatDate, sendPage } from './layout.js';
import { param, requireSignedIn } from './repo-context.js';
import { checkCsrf } from './session.js';

/**
 * Personal access tokens: list, create (the secret is shown once), revoke. As on Gitea, a token
 * cannot mint or revoke tokens here: the web router refuses token credentials.
 */
export function tokenPages(services: ServerServices): Router {
  const router = Router();
  const { accounts } = services;

  const page = async (
    req: Request,
    res: Response,
    actor: Actor,
    extra: { created?: { token: string; name: string }; error?: string; status?: number; name?: string; scopes?: string[] } = {},
  ) => {
    const tokens = await accounts.listTokens(actor.user.name);
    const chosen = extra.scopes ?? ['read:repository', 'write:repository'];
    const body = html`<h1>Personal access tokens</h1>
<p class="muted">Tokens work as passwords for git over HTTPS (user name and token) and for the API (<code>Authorization: token …</code>).</p>
${
  extra.created
    ? html`<div class="flash flash-success" id="new-token" data-token-name="${extra.created.name}">
Your new token <strong>${extra.created.name}</strong> — copy it now, it will not be shown again:
<p><code id="new-token-value">${extra.created.token}</code> <button type="button" class="btn btn-small" id="copy-new-token" data-copy="${extra.created.token}">Copy</button></p></div>`
    : ''
}
${extra.error ? flash('error', extra.error) : ''}
<div class="box"><div class="box-header"><strong>Your tokens</strong></div>
<ul class="list" id="token-list">${tokens.map(
      (
        token,
      ) => html`<li class="token" data-token-id="${token.id}" data-token-name="${token.name}"><div class="grow"><span class="title">${token.name}</span>
<div class="muted">${token.scopes.join(', ') || 'no scopes'} · created ${formatDate(token.createdAt)} · ${token.expiresAt ? html`expires ${formatDate(token.expiresAt)}` : 'never expires'}</div></div>
<form class="inline-form revoke-token-form" method="post" action="/settings/tokens/${encodeURIComponent(token.id)}/delete" data-confirm="Revoke the token ${token.name}? Anything using it stops working.">${csrfField(req)}
<button type="submit" class="btn btn-small btn-danger">Revoke</button></form></li>`,
    )}</ul>${tokens.length === 0 ? html`<div class="empty">No tokens yet.</div>` : ''}</div>
<h2>Generate a new token</h2>
<form id="new-token-form" class="stacked" method="post" action="/settings/tokens">${csrfField(req)}
<label for="token-name">Token name</label>
<input type="text" id="token-name" name="name" value="${extra.name ?? ''}" required maxlength="100">
<label for="token-expires">Expires on <span class="hint">(optional; empty = never)</span></label>
<input type="date" id="token-expires" name="expires">
<fieldset id="token-scopes"><legend>Scopes</legend>
${TOKEN_SCOPES.map((scope) => html`<label class="check"><input type="checkbox" name="scopes" value="${scope}" id="scope-${scope.replace(':', '-')}" ${chosen.includes(scope) ? 'checked' : ''}> <code>${scope}</code></label>`)}
</fieldset>
<div class="form-actions"><button type="submit" class="btn btn-primary" id="generate-token">Generate token</button></div></form>`;
    sendPage(req, res, { title: 'Access tokens', body, status: extra.status });
  };

  router.get('/settings/tokens', async (req, res) => {
    await page(req, res, requireSignedIn(req));
  });

  router.post('/settings/tokens', parseForm, async (req, res) => {
    const actor = requireSignedIn(req);
    checkCsrf(req);
    const name = field(req, 'name');
    const scopes = fields(req, 'scopes');
    const expires = field(req, 'expires');
    const retry = (error: string) => page(req, res, actor, { error, status: 422, name, scopes });
    const unknown = scopes.filter((scope) => !(TOKEN_SCOPES as readonly string[]).includes(scope));
    if (unknown.length > 0) return retry(`Unknown scope ${unknown.join(', ')}.`);
    let expiresAt: string | undefined;
    if (expires !== '') {
      // The end of the chosen day, UTC.
      const date = new Date(`${expires}T23:59:59Z`);
      if (!/^\d{4}-\d{2}-\d{2}$/.test(expires) || Number.isNaN(date.getTime()))
        return retry('The expiry date must be a date (YYYY-MM-DD).');
      if (date.getTime() <= Date.now()) return retry('The expiry date must be in the future.');
      expiresAt = date.toISOString();
    }
    try {
      const { token, info } = await accounts.createToken(actor.user.name, { name, scopes: scopes as TokenScope[], expiresAt });
      await page(req, res, actor, { created: { token, name: info.name }, status: 201 });
    } catch (error) {
      if (error instanceof AccountConflict || error instanceof InvalidAccountInput) return retry(error.message);
      throw error;
    }
  });

  router.post('/settings/tokens/:id/delete', parseForm, async (req, res) => {
    const actor = requireSignedIn(req);
    checkCsrf(req);
    // An unknown token is AccountNotFound: a 404 page.
    await accounts.revokeToken(actor.user.name, param(req, 'id'));
    res.redirect(303, '/settings/tokens');
  });

  return router;
}
