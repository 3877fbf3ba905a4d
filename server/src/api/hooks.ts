/**
 * Webhooks in the REST API, in GitHub's shape (Gitea's clients use the same paths and fields):
 *   /repos/{owner}/{repo}/hooks[/{id}[/pings|/deliveries[/{delivery_id}[/attempts]]]]
 *   /repos/{owner}/{repo}/hooks/{id}/dead-letters[/{guid}[/attempts]] — deliveries failed for good,
 *     kept for replay (GitHub has no such list; its shape follows the deliveries')
 *   /orgs/{org}/hooks[…]  — every repository of that owner.
 * A repository's hooks need admin permission on it; an organisation's, the right to administer
 * the organisation (its owners and site administrators).
 */
import { Router, type Request } from 'express';
import { z } from 'zod';
import {
  HookValidationError,
  deadLetterJson,
  deadLetterSummaryJson,
  deliveryJson,
  deliverySummaryJson,
  hookJson,
  repositoryTarget,
  type Hook,
  type HookTarget,
} from '@gitfleet/events';
import type { Repository } from '@gitfleet/repository';
import { authorizeRepository, requireActor } from '../auth/index.js';
import { parseHookId } from '../hook-ids.js';
import { HttpError } from '../http-errors.js';
import { checkName } from '../http-errors.js';
import type { ServerServices } from '../services.js';
import { defineRoute, type FieldError } from './define-route.js';
import { pageRequest, paginateList, paginationQuery, setLinkHeader } from './pagination.js';

/** Where a request's hooks belong, and the repository for a repository's hook (pings need it). */
interface Scope {
  target: HookTarget;
  repository?: Repository;
}

const SAFE_METHODS = new Set(['GET', 'HEAD']);

const anyObject = z.record(z.string(), z.unknown());
const hookSchema = anyObject.meta({ id: 'Hook', description: "GitHub's webhook shape" });
const deliverySchema = anyObject.meta({ id: 'HookDelivery', description: "GitHub's webhook delivery shape" });
const deadLetterSchema = anyObject.meta({
  id: 'HookDeadLetter',
  description:
    'A delivery failed for good, kept until replayed or discarded: {guid, event, action, repository_id, failed_at, reason, ' +
    'attempts, delivery_id (its last attempt in the delivery log, or null)}; one dead letter alone adds its payload',
});
/**
 * The webhook service checks a hook's fields itself (the CLI's hooks go through it too), so the
 * route takes any JSON and hands it the body as sent.
 */
const hookBody = z.unknown().meta({
  id: 'HookSettings',
  description:
    "GitHub's fields {config: {url, content_type, secret, insecure_ssl}, events, add_events, remove_events, active} " +
    "or Gitea's, which add {type, branch_filter}; a refused field is a 422 naming it",
});
const pageQuery = z.object(paginationQuery);

/** A `page` or `per_page` that is no positive integer: 400. */
const refusedPage = (errors: FieldError[]) => new HttpError(400, `${errors[0].field}: expected a positive integer`);

export function hooksRouter(services: ServerServices): Router {
  const { webhooks, baseUrl } = services;
  const router = Router();

  const scopes: Array<{ base: string; who: string; params: z.ZodObject; resolve: (req: Request) => Promise<Scope> }> = [
    {
      base: '/repos/:owner/:repo/hooks',
      who: 'a repository',
      params: z.object({ owner: z.string(), repo: z.string() }),
      async resolve(req) {
        const { repo } = await authorizeRepository(services, req, param(req, 'owner'), param(req, 'repo'), 'admin', 'api');
        return { target: repositoryTarget(repo.info), repository: repo };
      },
    },
    {
      base: '/orgs/:org/hooks',
      who: "an organisation's repositories",
      params: z.object({ org: z.string() }),
      async resolve(req) {
        const name = param(req, 'org');
        // An owner name follows the rules of the owner part of a repository name.
        checkName(name, 'repository');
        const actor = requireActor(req, SAFE_METHODS.has(req.method) ? 'read:organization' : 'write:organization');
        const org = await services.accounts.getOrganization(name);
        if (!org) throw new HttpError(404, `organization ${name} not found`);
        if (!(await services.accounts.mayAdministerOrganization(actor.user, org.name))) {
          throw new HttpError(403, `permission denied: only owners of ${org.name} manage its hooks`);
        }
        // Hooks are keyed by the organisation's immutable id: a later organisation of the same name has its own.
        return { target: { kind: 'organization', ownerId: org.id, owner: org.name } };
      },
    },
  ];

  for (const { base, who, params, resolve } of scopes) {
    const hookParams = params.extend({ id: z.string() });
    const deliveryParams = hookParams.extend({ delivery: z.string() });
    const deadLetterParams = hookParams.extend({ guid: z.string() });
    const tag = 'hooks';

    const existingHook = async (req: Request): Promise<{ scope: Scope; hook: Hook }> => {
      const scope = await resolve(req);
      const id = parseHookId(param(req, 'id'));
      const hook = id === undefined ? undefined : await webhooks.hooks.get(scope.target, id);
      if (!hook) throw new HttpError(404, `hook ${param(req, 'id')} not found`);
      return { scope, hook };
    };
    const loggedDelivery = async (req: Request, scope: Scope, hook: Hook) => {
      const id = parseHookId(param(req, 'delivery'));
      const attempt = id === undefined ? undefined : await webhooks.log.get(scope.target, hook.id, id);
      if (!attempt) throw new HttpError(404, `delivery ${param(req, 'delivery')} of hook ${hook.id} not found`);
      return attempt;
    };
    const deadLetter = async (req: Request, scope: Scope, hook: Hook) => {
      const letter = await webhooks.deadLetters.get(scope.target, hook.id, param(req, 'guid'));
      if (!letter) throw new HttpError(404, `dead letter ${param(req, 'guid')} of hook ${hook.id} not found`);
      return letter;
    };

    defineRoute(router, {
      method: 'get',
      path: base,
      tag,
      summary: `The webhooks of ${who}`,
      params,
      response: { status: 200, schema: z.array(hookSchema) },
      async handler({ req }) {
        const { target } = await resolve(req);
        return (await webhooks.hooks.list(target)).map((hook) => hookJson(hook, baseUrl(req)));
      },
    });

    defineRoute(router, {
      method: 'post',
      path: base,
      tag,
      summary: `Create a webhook of ${who}`,
      params,
      body: hookBody,
      response: { status: 201, schema: hookSchema },
      async handler({ req, res }) {
        const scope = await resolve(req);
        // req.body, not the parsed body: a request without one is refused by the service, as an empty object is not.
        const hook = await validated(() =>
          webhooks.createHook(scope.target, req.body, { baseUrl: services.publicBaseUrl(), repository: scope.repository }),
        );
        const json = hookJson(hook, baseUrl(req));
        res.location(json.url);
        return json;
      },
    });

    defineRoute(router, {
      method: 'get',
      path: `${base}/:id`,
      tag,
      summary: 'A webhook',
      params: hookParams,
      response: { status: 200, schema: hookSchema },
      async handler({ req }) {
        const { hook } = await existingHook(req);
        return hookJson(hook, baseUrl(req));
      },
    });

    defineRoute(router, {
      method: 'patch',
      path: `${base}/:id`,
      tag,
      summary: 'Change a webhook',
      params: hookParams,
      body: hookBody,
      response: { status: 200, schema: hookSchema },
      async handler({ req }) {
        const { scope, hook } = await existingHook(req);
        // req.body, as for a creation: an update without a body is refused, not a no-op.
        const updated = await validated(() => webhooks.updateHook(scope.target, hook.id, req.body));
        if (!updated) throw new HttpError(404, `hook ${hook.id} not found`);
        return hookJson(updated, baseUrl(req));
      },
    });

    defineRoute(router, {
      method: 'delete',
      path: `${base}/:id`,
      tag,
      summary: 'Delete a webhook',
      params: hookParams,
      response: { status: 204 },
      async handler({ req }) {
        const { scope, hook } = await existingHook(req);
        if (!(await webhooks.deleteHook(scope.target, hook.id))) throw new HttpError(404, `hook ${hook.id} not found`);
      },
    });

    defineRoute(router, {
      method: 'post',
      path: `${base}/:id/pings`,
      tag,
      summary: 'Send a ping event to a webhook',
      params: hookParams,
      response: { status: 204 },
      async handler({ req }) {
        const { scope, hook } = await existingHook(req);
        await webhooks.ping(hook, { baseUrl: services.publicBaseUrl(), repository: scope.repository });
      },
    });

    defineRoute(router, {
      method: 'get',
      path: `${base}/:id/deliveries`,
      tag,
      summary: "A webhook's deliveries, newest first",
      params: hookParams,
      query: pageQuery,
      refuse: refusedPage,
      response: { status: 200, schema: z.array(deliverySchema) },
      async handler({ req, res, query }) {
        const { scope, hook } = await existingHook(req);
        const attempts = await webhooks.log.list(scope.target, hook.id);
        return paginateList(req, res, baseUrl(req), attempts, pageRequest(query)).map(deliverySummaryJson);
      },
    });

    defineRoute(router, {
      method: 'get',
      path: `${base}/:id/deliveries/:delivery`,
      tag,
      summary: 'One delivery, with its request and response',
      params: deliveryParams,
      response: { status: 200, schema: deliverySchema },
      async handler({ req }) {
        const { scope, hook } = await existingHook(req);
        return deliveryJson(await loggedDelivery(req, scope, hook));
      },
    });

    defineRoute(router, {
      method: 'post',
      path: `${base}/:id/deliveries/:delivery/attempts`,
      tag,
      summary: 'Redeliver a delivery',
      params: deliveryParams,
      response: { status: 202, schema: z.object({}) },
      async handler({ req }) {
        const { scope, hook } = await existingHook(req);
        const attempt = await loggedDelivery(req, scope, hook);
        if (!hook.active) throw new HttpError(422, `hook ${hook.id} is inactive: activate it (PATCH {"active": true}) before redelivering`);
        await webhooks.redeliver(attempt, scope.target);
        return {};
      },
    });

    defineRoute(router, {
      method: 'get',
      path: `${base}/:id/dead-letters`,
      tag,
      summary:
        "A webhook's dead letters, newest first: deliveries whose attempts are exhausted, refused for good, or due while the hook was " +
        'inactive. X-Total-Count counts them; X-Dead-Letters-Evicted counts the oldest ones removed because the list was full',
      params: hookParams,
      query: pageQuery,
      refuse: refusedPage,
      response: { status: 200, schema: z.array(deadLetterSchema) },
      async handler({ req, res, query }) {
        const { scope, hook } = await existingHook(req);
        const page = pageRequest(query);
        const { letters, total, evicted } = await webhooks.deadLetters.list(scope.target, hook.id, page.offset, page.perPage);
        setLinkHeader(req, res, baseUrl(req), page, { hasNext: page.offset + page.perPage < total, total });
        res.set('X-Total-Count', String(total));
        res.set('X-Dead-Letters-Evicted', String(evicted));
        return letters.map(deadLetterSummaryJson);
      },
    });

    defineRoute(router, {
      method: 'get',
      path: `${base}/:id/dead-letters/:guid`,
      tag,
      summary: 'One dead letter, with the payload a replay sends',
      params: deadLetterParams,
      response: { status: 200, schema: deadLetterSchema },
      async handler({ req }) {
        const { scope, hook } = await existingHook(req);
        return deadLetterJson(await deadLetter(req, scope, hook));
      },
    });

    defineRoute(router, {
      method: 'post',
      path: `${base}/:id/dead-letters/:guid/attempts`,
      tag,
      summary:
        'Replay a dead letter: a new delivery with its payload and X-GitHub-Delivery, retried like any; the dead letter leaves the list once it succeeds',
      params: deadLetterParams,
      response: { status: 202, schema: z.object({}) },
      async handler({ req }) {
        const { scope, hook } = await existingHook(req);
        const letter = await deadLetter(req, scope, hook);
        if (!hook.active) throw new HttpError(422, `hook ${hook.id} is inactive: activate it (PATCH {"active": true}) before replaying`);
        if (!(await webhooks.replay(scope.target, hook.id, letter.guid)))
          throw new HttpError(404, `dead letter ${letter.guid} of hook ${hook.id} not found`);
        return {};
      },
    });

    defineRoute(router, {
      method: 'delete',
      path: `${base}/:id/dead-letters/:guid`,
      tag,
      summary: 'Discard a dead letter without replaying it',
      params: deadLetterParams,
      response: { status: 204 },
      async handler({ req }) {
        const { scope, hook } = await existingHook(req);
        if (!(await webhooks.deadLetters.remove(scope.target, hook.id, param(req, 'guid'), 'discarded')))
          throw new HttpError(404, `dead letter ${param(req, 'guid')} of hook ${hook.id} not found`);
      },
    });
  }
  return router;
}

function param(req: Request, name: string): string {
  const value = req.params[name];
  return typeof value === 'string' ? value : '';
}

/** Runs a create/update, turning a refused field into GitHub's 422. */
async function validated<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof HookValidationError) throw new HttpError(422, `Validation Failed: ${error.message}`);
    throw error;
  }
}
