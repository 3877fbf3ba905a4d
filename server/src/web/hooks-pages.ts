import { Router, type Request, type Response } from 'express';
import {
  HOOK_EVENTS,
  HookValidationError,
  repositoryTarget,
  type DeadLetterPage,
  type DeliveryAttempt,
  type Hook,
  type HookTarget,
  type PingContext,
} from '@gitfleet/events';
import { parseHookId } from '../hook-ids.js';
import { HttpError } from '../http-errors.js';
import type { ServerServices } from '../services.js';
import { checked, field, fields, parseForm } from './forms.js';
import { html, type Html } from './html.js';
import { csrfField, flash, formatDate, sendPage } from './layout.js';
import { loadOrg, orgHeader, orgHooksUrl } from './org-pages.js';
import { loadRepo, param, repoHeader } from './repo-context.js';
import { checkCsrf } from './session.js';
import { repoUrl } from './urls.js';

/** Deliveries listed on a hook's page (the log keeps a bounded number anyway). */
const DELIVERIES_SHOWN = 50;
/** Dead letters listed on a hook's page, newest first (the API pages through all of them). */
const DEAD_LETTERS_SHOWN = 50;

interface HookForm {
  url: string;
  contentType: string;
  secret: string;
  events: string[];
  allEvents: boolean;
  active: boolean;
  branchFilter: string;
  insecureSsl: boolean;
}

/** Whose webhooks a page manages, and what the page shows around them. */
interface HookScope {
  target: HookTarget;
  /** The URL of the list of hooks; a hook's page is below it. */
  url: string;
  header: Html;
  /** The repository or organisation, as page titles name it. */
  name: string;
  /** Where its events happen, for the list's explanation. */
  events: string;
  ping: PingContext;
}

/**
 * Webhooks of a repository (its admins) and of an organisation (its owners): list, create,
 * edit, delete, ping, delivery log, redeliver, dead letters (replay, discard). The same pages
 * for both, as in the API.
 */
export function hooksPages(services: ServerServices): Router {
  const router = Router();
  const { webhooks } = services;

  // The organisations' first: "/organizations/x/settings/hooks" also looks like owner/repo.
  const scopes: Array<[string, (req: Request) => Promise<HookScope>]> = [
    [
      '/organizations/:org/settings/hooks',
      async (req) => {
        const context = await loadOrg(services, req, 'owner');
        const { org } = context;
        return {
          // Keyed by the organisation's immutable id: a later organisation of the same name has its own.
          target: { kind: 'organization', ownerId: org.id, owner: org.name },
          url: orgHooksUrl(org.name),
          header: orgHeader(context, 'hooks'),
          name: org.name,
          events: 'in any repository of the organization',
          ping: { baseUrl: services.publicBaseUrl() },
        };
      },
    ],
    [
      '/:owner/:repo/settings/hooks',
      async (req) => {
        const context = await loadRepo(services, req, 'admin');
        const { info } = context.repo;
        return {
          target: repositoryTarget(info),
          url: repoUrl(info, 'settings/hooks'),
          header: repoHeader(context, 'settings'),
          name: `${info.owner}/${info.name}`,
          events: 'in the repository',
          ping: { baseUrl: services.publicBaseUrl(), repository: context.repo },
        };
      },
    ],
  ];

  for (const [base, resolve] of scopes) {
    const hookFor = async (req: Request): Promise<{ scope: HookScope; hook: Hook }> => {
      const scope = await resolve(req);
      const id = param(req, 'id');
      const hookId = parseHookId(id);
      const hook = hookId === undefined ? undefined : await webhooks.hooks.get(scope.target, hookId);
      if (!hook) throw new HttpError(404, `hook ${id} not found`);
      return { scope, hook };
    };
    const history = async (scope: HookScope, hook: Hook): Promise<HookHistory> => {
      const [deliveries, deadLetters] = await Promise.all([
        webhooks.log.list(scope.target, hook.id),
        webhooks.deadLetters.list(scope.target, hook.id, 0, DEAD_LETTERS_SHOWN),
      ]);
      return { hook, deliveries: deliveries.slice(0, DELIVERIES_SHOWN), deadLetters };
    };

    router.get(base, async (req, res) => {
      const scope = await resolve(req);
      const hooks = await webhooks.hooks.list(scope.target);
      const body = html`${scope.header}
<div class="page-head"><h1>Webhooks</h1><a class="btn btn-primary" id="add-webhook" href="${scope.url}/new">Add webhook</a></div>
<p class="muted">Webhooks send a POST request (GitHub and Gitea headers and payloads) to a URL when something happens ${scope.events}.</p>
<div class="box"><ul class="list" id="hook-list">${hooks.map(
        (
          hook,
        ) => html`<li class="hook" data-hook-id="${hook.id}"><div class="grow"><a class="title" href="${scope.url}/${hook.id}">${hook.config.url}</a>
<div class="muted">${hook.events.join(', ')} · ${hook.active ? 'active' : html`<span class="status-fail">inactive</span>`} · last delivery: ${lastResponse(hook)}</div></div>
<a class="btn btn-small" href="${scope.url}/${hook.id}">Edit</a></li>`,
      )}</ul>${hooks.length === 0 ? html`<div class="empty">No webhooks yet.</div>` : ''}</div>`;
      sendPage(req, res, { title: `Webhooks · ${scope.name}`, body });
    });

    router.get(`${base}/new`, async (req, res) => {
      hookFormPage(req, res, await resolve(req), undefined, defaultForm());
    });

    router.post(`${base}/new`, parseForm, async (req, res) => {
      const scope = await resolve(req);
      checkCsrf(req);
      const form = readForm(req);
      try {
        const hook = await webhooks.createHook(scope.target, hookBody(form), scope.ping);
        res.redirect(303, `${scope.url}/${hook.id}`);
      } catch (error) {
        if (!(error instanceof HookValidationError)) throw error;
        hookFormPage(req, res, scope, undefined, form, error.message);
      }
    });

    router.get(`${base}/:id`, async (req, res) => {
      const { scope, hook } = await hookFor(req);
      const notice = Object.keys(NOTICES).find((done) => req.query[done] === '1');
      hookFormPage(req, res, scope, await history(scope, hook), formOf(hook), undefined, notice && NOTICES[notice]);
    });

    router.post(`${base}/:id`, parseForm, async (req, res) => {
      const { scope, hook } = await hookFor(req);
      checkCsrf(req);
      const form = readForm(req);
      try {
        // An empty secret field keeps the secret (it is never sent back to the browser).
        const body = hookBody({ ...form, secret: form.secret === '' && !checked(req, 'clear_secret') ? hook.config.secret : form.secret });
        if (!(await webhooks.updateHook(scope.target, hook.id, body))) throw new HttpError(404, `hook ${hook.id} not found`);
        res.redirect(303, `${scope.url}/${hook.id}`);
      } catch (error) {
        if (!(error instanceof HookValidationError)) throw error;
        hookFormPage(req, res, scope, await history(scope, hook), form, error.message);
      }
    });

    router.post(`${base}/:id/delete`, parseForm, async (req, res) => {
      const { scope, hook } = await hookFor(req);
      checkCsrf(req);
      await webhooks.deleteHook(scope.target, hook.id);
      res.redirect(303, scope.url);
    });

    router.post(`${base}/:id/ping`, parseForm, async (req, res) => {
      const { scope, hook } = await hookFor(req);
      checkCsrf(req);
      await webhooks.ping(hook, scope.ping);
      res.redirect(303, `${scope.url}/${hook.id}?pinged=1`);
    });

    router.post(`${base}/:id/deliveries/:delivery/redeliver`, parseForm, async (req, res) => {
      const { scope, hook } = await hookFor(req);
      checkCsrf(req);
      const deliveryId = param(req, 'delivery');
      const attemptId = parseHookId(deliveryId);
      const attempt = attemptId === undefined ? undefined : await webhooks.log.get(scope.target, hook.id, attemptId);
      if (!attempt) throw new HttpError(404, `delivery ${deliveryId} of hook ${hook.id} not found`);
      if (!hook.active) throw new HttpError(422, `hook ${hook.id} is inactive: activate it before redelivering`);
      await webhooks.redeliver(attempt, scope.target);
      res.redirect(303, `${scope.url}/${hook.id}`);
    });

    router.post(`${base}/:id/dead-letters/:guid/replay`, parseForm, async (req, res) => {
      const { scope, hook } = await hookFor(req);
      checkCsrf(req);
      if (!hook.active) throw new HttpError(422, `hook ${hook.id} is inactive: activate it before replaying`);
      if (!(await webhooks.replay(scope.target, hook.id, param(req, 'guid'))))
        throw new HttpError(404, `dead letter ${param(req, 'guid')} of hook ${hook.id} not found`);
      res.redirect(303, `${scope.url}/${hook.id}?replayed=1`);
    });

    router.post(`${base}/:id/dead-letters/:guid/discard`, parseForm, async (req, res) => {
      const { scope, hook } = await hookFor(req);
      checkCsrf(req);
      if (!(await webhooks.deadLetters.remove(scope.target, hook.id, param(req, 'guid'), 'discarded')))
        throw new HttpError(404, `dead letter ${param(req, 'guid')} of hook ${hook.id} not found`);
      res.redirect(303, `${scope.url}/${hook.id}`);
    });
  }

  return router;
}

/** What a hook's page shows below its form. */
interface HookHistory {
  hook: Hook;
  deliveries: DeliveryAttempt[];
  deadLetters: DeadLetterPage;
}

/** The banner after an action that redirects back to the hook's page (?<action>=1). */
const NOTICES: Record<string, string> = {
  pinged: 'Ping queued: it appears below once delivered.',
  replayed: 'Replay queued: the dead letter leaves the list once the delivery succeeds.',
};

function defaultForm(): HookForm {
  return {
    url: '',
    contentType: 'json',
    secret: '',
    events: ['push'],
    allEvents: false,
    active: true,
    branchFilter: '',
    insecureSsl: false,
  };
}

function formOf(hook: Hook): HookForm {
  return {
    url: hook.config.url,
    contentType: hook.config.contentType,
    secret: '',
    events: hook.events.filter((event) => event !== '*'),
    allEvents: hook.events.includes('*'),
    active: hook.active,
    branchFilter: hook.branchFilter,
    insecureSsl: hook.config.insecureSsl,
  };
}

function readForm(req: Request): HookForm {
  return {
    url: field(req, 'url'),
    contentType: field(req, 'content_type') || 'json',
    secret: field(req, 'secret'),
    events: fields(req, 'events'),
    allEvents: field(req, 'event_choice') === 'all',
    active: checked(req, 'active'),
    branchFilter: field(req, 'branch_filter'),
    insecureSsl: checked(req, 'insecure_ssl'),
  };
}

/** The form as the GitHub-shaped body the webhook service validates (the API's own rules). */
function hookBody(form: HookForm): object {
  return {
    active: form.active,
    events: form.allEvents ? ['*'] : form.events,
    branch_filter: form.branchFilter,
    config: { url: form.url, content_type: form.contentType, secret: form.secret, insecure_ssl: form.insecureSsl ? '1' : '0' },
  };
}

function lastResponse(hook: Hook): Html {
  const { code, status, message } = hook.lastResponse;
  if (status === 'unused') return html`<span class="muted">never</span>`;
  return html`<span class="${status === 'active' ? 'status-ok' : 'status-fail'}">${code ?? message ?? status}</span>`;
}

function hookFormPage(
  req: Request,
  res: Response,
  scope: HookScope,
  existing: HookHistory | undefined,
  form: HookForm,
  error?: string,
  notice?: string,
): void {
  const base = scope.url;
  const action = existing ? `${base}/${existing.hook.id}` : `${base}/new`;
  const body = html`${scope.header}
<div class="page-head"><h1>${existing ? 'Edit webhook' : 'Add webhook'}</h1><a class="btn" href="${base}">All webhooks</a></div>
${error ? flash('error', error) : ''}${notice ? flash('success', notice) : ''}
${existing?.hook.disabledReason && !existing.hook.active ? flash('warn', `Deactivated by the server: ${existing.hook.disabledReason}`) : ''}
<form id="hook-form" class="stacked" method="post" action="${action}">${csrfField(req)}
<label for="hook-url">Payload URL</label>
<input type="url" id="hook-url" name="url" value="${form.url}" placeholder="https://example.com/postreceive" required>
<label for="hook-content-type">Content type</label>
<select id="hook-content-type" name="content_type">
<option value="json" ${form.contentType === 'json' ? 'selected' : ''}>application/json</option>
<option value="form" ${form.contentType === 'form' ? 'selected' : ''}>application/x-www-form-urlencoded</option></select>
<label for="hook-secret">Secret ${existing ? html`<span class="hint">(${existing.hook.config.secret ? 'set; leave empty to keep it' : 'none'})</span>` : ''}</label>
<input type="password" id="hook-secret" name="secret" value="${form.secret}" autocomplete="new-password">
${existing?.hook.config.secret ? html`<label class="check"><input type="checkbox" name="clear_secret" id="hook-clear-secret" value="1"> Remove the secret</label>` : ''}
<label for="hook-branch-filter">Branch filter <span class="hint">(glob, e.g. main or release/*; empty = every branch)</span></label>
<input type="text" id="hook-branch-filter" name="branch_filter" value="${form.branchFilter}">
<fieldset id="hook-events"><legend>Which events trigger this webhook?</legend>
<label class="check"><input type="radio" name="event_choice" value="all" id="hook-events-all" ${form.allEvents ? 'checked' : ''}> Send me everything</label>
<label class="check"><input type="radio" name="event_choice" value="some" id="hook-events-some" ${form.allEvents ? '' : 'checked'}> Let me select individual events:</label>
${HOOK_EVENTS.map((event) => html`<label class="check indented"><input type="checkbox" name="events" value="${event}" id="hook-event-${event}" ${form.events.includes(event) ? 'checked' : ''}> ${event}</label>`)}
</fieldset>
<label class="check"><input type="checkbox" name="insecure_ssl" id="hook-insecure-ssl" value="1" ${form.insecureSsl ? 'checked' : ''}> Skip TLS certificate verification (not recommended)</label>
<label class="check"><input type="checkbox" name="active" id="hook-active" value="1" ${form.active ? 'checked' : ''}> Active — deliver events</label>
<div class="form-actions"><button type="submit" class="btn btn-primary" id="save-hook">${existing ? 'Update webhook' : 'Add webhook'}</button></div></form>
${existing ? hookActions(req, base, existing) : ''}`;
  sendPage(req, res, { title: existing ? `Webhook ${existing.hook.id}` : 'Add webhook', body, status: error ? 422 : 200 });
}

function hookActions(req: Request, base: string, { hook, deliveries, deadLetters }: HookHistory): Html {
  const hookUrl = `${base}/${hook.id}`;
  return html`<div class="toolbar spaced">
<form class="inline-form" id="ping-hook-form" method="post" action="${hookUrl}/ping">${csrfField(req)}<button type="submit" class="btn" id="ping-hook">Test delivery (ping)</button></form>
<form class="inline-form" id="delete-hook-form" method="post" action="${hookUrl}/delete" data-confirm="Delete this webhook and its delivery log?">${csrfField(req)}<button type="submit" class="btn btn-danger" id="delete-hook">Delete webhook</button></form></div>
${deadLetterList(req, hookUrl, hook, deadLetters)}
<h2>Recent deliveries</h2>
<div class="box"><ul class="list" id="delivery-list">${deliveries.map((attempt) => deliveryRow(req, hookUrl, hook, attempt))}</ul>
${deliveries.length === 0 ? html`<div class="empty">No deliveries yet.</div>` : ''}</div>`;
}

function deadLetterList(req: Request, hookUrl: string, hook: Hook, { letters, total, evicted }: DeadLetterPage): Html {
  if (total === 0 && evicted === 0) return html``;
  return html`<h2 id="dead-letters-title">Failed deliveries <span class="badge" id="dead-letter-count">${total}</span></h2>
<p class="muted">Deliveries that will not be retried by themselves: their attempts are exhausted, the receiver refused them, or the webhook was inactive. Replaying sends the same payload with the same X-GitHub-Delivery.${
    total > letters.length ? ` The newest ${letters.length} are shown; the API lists them all.` : ''
  }</p>
${evicted > 0 ? flash('warn', `${evicted} older failed deliveries were removed because the list was full.`) : ''}
<div class="box"><ul class="list" id="dead-letter-list">${letters.map(
    (letter) => html`<li class="dead-letter" data-guid="${letter.guid}"><div class="grow">
<span class="status-fail">${letter.reason}</span> <span class="mono">${letter.guid}</span> <span class="badge">${letter.event}</span>
<div class="muted">failed ${formatDate(letter.failedAt)}${letter.attempts > 0 ? ` after ${letter.attempts} attempts` : ''}</div></div>
${hook.active ? html`<form class="inline-form replay-form" method="post" action="${hookUrl}/dead-letters/${letter.guid}/replay">${csrfField(req)}<button type="submit" class="btn btn-small">Replay</button></form>` : ''}
<form class="inline-form discard-form" method="post" action="${hookUrl}/dead-letters/${letter.guid}/discard" data-confirm="Discard this failed delivery without sending it?">${csrfField(req)}<button type="submit" class="btn btn-small btn-danger">Discard</button></form></li>`,
  )}</ul></div>`;
}

function deliveryRow(req: Request, hookUrl: string, hook: Hook, attempt: DeliveryAttempt): Html {
  const headers = (record: Record<string, string>) =>
    Object.entries(record)
      .map(([name, value]) => `${name}: ${value}`)
      .join('\n');
  return html`<li class="delivery" data-delivery-id="${attempt.id}" data-guid="${attempt.guid}" data-status="${attempt.statusCode ?? ''}"><details class="grow">
<summary><span class="${attempt.ok ? 'status-ok' : 'status-fail'} delivery-status">${attempt.statusCode ?? 'no response'}</span>
<span class="mono">${attempt.guid}</span> <span class="badge">${attempt.event}</span>${attempt.redelivery ? html` <span class="badge">redelivery</span>` : ''}
<span class="muted">${formatDate(attempt.deliveredAt)} · ${Math.round(attempt.durationMs)} ms${attempt.attempt > 1 ? ` · attempt ${attempt.attempt}` : ''}</span></summary>
<p>${attempt.status} — ${attempt.url}</p>
<h3>Request</h3><pre class="delivery-request-headers">${headers(attempt.request.headers)}</pre><pre class="delivery-request-body">${readableBody(attempt.request.body)}</pre>
<h3>Response</h3>${
    attempt.statusCode === null
      ? html`<p class="muted">No response.</p>`
      : html`<pre class="delivery-response-headers">${headers(attempt.response.headers)}</pre><pre class="delivery-response-body">${attempt.response.body}${attempt.response.truncated ? '\n…(truncated)' : ''}</pre>`
  }
${hook.active ? html`<form class="inline-form redeliver-form" method="post" action="${hookUrl}/deliveries/${attempt.id}/redeliver">${csrfField(req)}<button type="submit" class="btn btn-small">Redeliver</button></form>` : ''}
</details></li>`;
}

/** A JSON payload indented for reading (a form-encoded one as sent). */
function readableBody(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}
