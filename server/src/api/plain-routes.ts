/**
 * The OpenAPI descriptions of the routes that plain Express routers answer (webhooks, commit
 * statuses), so that the document lists every route of the API.
 * Their routers validate their own input; these schemas only describe it.
 */
import { z } from 'zod';
import { documentRoute, type RouteDescription } from './define-route.js';

const anyObject = z.record(z.string(), z.unknown());
const hookSchema = anyObject.meta({ id: 'Hook', description: "GitHub's webhook shape" });
const deliverySchema = anyObject.meta({ id: 'HookDelivery', description: "GitHub's webhook delivery shape" });
const statusSchema = anyObject.meta({ id: 'CommitStatus', description: "GitHub's commit status shape" });

function hookRoutes(base: string, tag: string, who: string): RouteDescription[] {
  return [
    { method: 'get', path: base, tag, summary: `The webhooks of ${who}`, response: { status: 200, schema: z.array(hookSchema) } },
    { method: 'post', path: base, tag, summary: `Create a webhook of ${who}`, body: anyObject, response: { status: 201, schema: hookSchema } },
    { method: 'get', path: `${base}/:id`, tag, summary: 'A webhook', response: { status: 200, schema: hookSchema } },
    { method: 'patch', path: `${base}/:id`, tag, summary: 'Change a webhook', body: anyObject, response: { status: 200, schema: hookSchema } },
    { method: 'delete', path: `${base}/:id`, tag, summary: 'Delete a webhook', response: { status: 204 } },
    { method: 'post', path: `${base}/:id/pings`, tag, summary: 'Send a ping event to a webhook', response: { status: 204 } },
    { method: 'get', path: `${base}/:id/deliveries`, tag, summary: "A webhook's deliveries", response: { status: 200, schema: z.array(deliverySchema) } },
    { method: 'get', path: `${base}/:id/deliveries/:delivery`, tag, summary: 'One delivery, with its request and response', response: { status: 200, schema: deliverySchema } },
    { method: 'post', path: `${base}/:id/deliveries/:delivery/attempts`, tag, summary: 'Redeliver a delivery', response: { status: 202 } },
  ];
}

const PLAIN_ROUTES: RouteDescription[] = [
  ...hookRoutes('/repos/:owner/:repo/hooks', 'hooks', 'a repository'),
  ...hookRoutes('/orgs/:org/hooks', 'hooks', "an organisation's repositories"),
  {
    method: 'post',
    path: '/repos/:owner/:repo/statuses/:sha',
    tag: 'statuses',
    summary: 'Create a commit status',
    body: z.object({ state: z.enum(['pending', 'success', 'failure', 'error']), target_url: z.string().optional(), description: z.string().optional(), context: z.string().optional() }),
    response: { status: 201, schema: statusSchema },
  },
  {
    method: 'get',
    path: '/repos/:owner/:repo/commits/*ref/statuses',
    tag: 'statuses',
    summary: 'The statuses of a commit, newest first',
    response: { status: 200, schema: z.array(statusSchema) },
  },
  {
    method: 'get',
    path: '/repos/:owner/:repo/commits/*ref/status',
    tag: 'statuses',
    summary: 'The combined status of a commit',
    response: { status: 200, schema: anyObject.meta({ id: 'CombinedStatus' }) },
  },
];

export function documentPlainRoutes(): void {
  for (const route of PLAIN_ROUTES) documentRoute(route);
}
