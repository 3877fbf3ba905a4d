import express, { Router, type Request } from 'express';
import {
  HookValidationError,
  deliveryJson,
  deliverySummaryJson,
  hookJson,
  repositoryTarget,
  type Hook,
  type HookTarget,
  type WebhookService,
} from '@gitfleet/events';
import type { Repository } from '@gitfleet/repository';
import { authorizeRepository, requireActor } from './auth/index.js';
import { checkName, HttpError } from './http-errors.js';
import type { ServerServices } from './services.js';

/** Where a request's hooks belong, and the repository for a repository's hook (pings need it). */
interface Scope {
  target: HookTarget;
  repository?: Repository;
}

const SAFE_METHODS = new Set(['GET', 'HEAD']);

/**
 * Webhooks in the REST API, in GitHub's shape (Gitea's clients use the same paths and fields):
 *   /api/v1/repos/{owner}/{repo}/hooks[/{id}[/pings|/deliveries[/{delivery_id}[/attempts]]]]
 *   /api/v1/orgs/{org}/hooks[…]  — every repository of that owner.
 * A repository's hooks need admin permission on it; an organisation's, the right to administer
 * the organisation (its owners and site administrators).
 */
export function hooksApiRouter(services: ServerServices): Router {
  const { webhooks, baseUrl } = services;
  const router = Router();
  const json = express.json({ limit: '64kb', type: () => true });

  const scopes: Array<[string, (req: Request) => Promise<Scope>]> = [
    [
      '/repos/:owner/:repo/hooks',
      async (req) => {
        const { repo } = await authorizeRepository(services, req, param(req, 'owner'), param(req, 'repo'), 'admin', 'api');
        return { target: repositoryTarget(repo.info), repository: repo };
      },
    ],
    [
      '/orgs/:org/hooks',
      async (req) => {
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
    ],
  ];

  for (const [base, resolve] of scopes) {
    const existingHook = async (req: Request): Promise<{ scope: Scope; hook: Hook }> => {
      const scope = await resolve(req);
      const hook = await webhooks.hooks.get(scope.target, numericId(param(req, 'id')));
      if (!hook) throw new HttpError(404, `hook ${param(req, 'id')} not found`);
      return { scope, hook };
    };

    router.get(base, async (req, res) => {
      const { target } = await resolve(req);
      res.json((await webhooks.hooks.list(target)).map((hook) => hookJson(hook, baseUrl(req))));
    });

    router.post(base, json, async (req, res) => {
      const scope = await resolve(req);
      const hook = await validated(() => webhooks.createHook(scope.target, req.body, { baseUrl: services.publicBaseUrl(), repository: scope.repository }));
      const body = hookJson(hook, baseUrl(req));
      res.status(201).location(body.url).json(body);
    });

    router.get(`${base}/:id`, async (req, res) => {
      const { hook } = await existingHook(req);
      res.json(hookJson(hook, baseUrl(req)));
    });

    router.patch(`${base}/:id`, json, async (req, res) => {
      const { scope, hook } = await existingHook(req);
      const updated = await validated(() => webhooks.updateHook(scope.target, hook.id, req.body));
      if (!updated) throw new HttpError(404, `hook ${hook.id} not found`);
      res.json(hookJson(updated, baseUrl(req)));
    });

    router.delete(`${base}/:id`, async (req, res) => {
      const { scope, hook } = await existingHook(req);
      if (!(await webhooks.deleteHook(scope.target, hook.id))) throw new HttpError(404, `hook ${hook.id} not found`);
      res.status(204).end();
    });

    router.post(`${base}/:id/pings`, async (req, res) => {
      const { scope, hook } = await existingHook(req);
      await webhooks.ping(hook, { baseUrl: services.publicBaseUrl(), repository: scope.repository });
      res.status(204).end();
    });

    router.get(`${base}/:id/deliveries`, async (req, res) => {
      const { scope, hook } = await existingHook(req);
      const { perPage, page } = pagination(req);
      const attempts = await webhooks.log.list(scope.target, hook.id);
      res.json(attempts.slice((page - 1) * perPage, page * perPage).map(deliverySummaryJson));
    });

    router.get(`${base}/:id/deliveries/:delivery`, async (req, res) => {
      const { scope, hook } = await existingHook(req);
      const attempt = await webhooks.log.get(scope.target, hook.id, numericId(param(req, 'delivery')));
      if (!attempt) throw new HttpError(404, `delivery ${param(req, 'delivery')} of hook ${hook.id} not found`);
      res.json(deliveryJson(attempt));
    });

    router.post(`${base}/:id/deliveries/:delivery/attempts`, async (req, res) => {
      const { scope, hook } = await existingHook(req);
      const attempt = await webhooks.log.get(scope.target, hook.id, numericId(param(req, 'delivery')));
      if (!attempt) throw new HttpError(404, `delivery ${param(req, 'delivery')} of hook ${hook.id} not found`);
      if (!hook.active) throw new HttpError(422, `hook ${hook.id} is inactive: activate it (PATCH {"active": true}) before redelivering`);
      await webhooks.redeliver(attempt, scope.target);
      res.status(202).json({});
    });
  }
  return router;
}

function param(req: Request, name: string): string {
  const value = req.params[name];
  return typeof value === 'string' ? value : '';
}

/** A positive id from the URL; anything else names nothing (404, as for an unknown id). */
function numericId(text: string): number {
  return /^[1-9]\d{0,14}$/.test(text) ? Number(text) : 0;
}

function pagination(req: Request): { perPage: number; page: number } {
  const number = (name: string, fallback: number, max: number) => {
    const raw = req.query[name];
    if (raw === undefined) return fallback;
    if (typeof raw !== 'string' || !/^\d+$/.test(raw) || Number(raw) < 1) throw new HttpError(400, `${name}: expected a positive integer`);
    return Math.min(Number(raw), max);
  };
  return { perPage: number('per_page', 30, 100), page: number('page', 1, 1_000_000) };
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
