/**
 * The OpenAPI descriptions of the routes that plain Express routers answer (the core issue's
 * POST /repos), so that the document lists every route of the API. Their routers validate their
 * own input; these schemas only describe it.
 */
import { z } from 'zod';
import { documentRoute, type RouteDescription } from './define-route.js';
import { repositorySchema } from './json.js';

const PLAIN_ROUTES: RouteDescription[] = [
  {
    method: 'post',
    path: '/repos',
    tag: 'admin',
    summary: 'Create a repository under any user or organisation (site administrators)',
    body: z.object({ owner: z.string(), name: z.string(), private: z.boolean().optional(), description: z.string().optional() }),
    response: { status: 201, schema: repositorySchema },
  },
];

export function documentPlainRoutes(): void {
  for (const route of PLAIN_ROUTES) documentRoute(route);
}
