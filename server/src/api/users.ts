/**
 * Users and their repositories: GET /user, /users/{username}, /users/{username}/repos,
 * /user/repos, and POST /user/repos.
 */
import { Router } from 'express';
import { z } from 'zod';
import { requireActor } from '../auth/index.js';
import { existingOwner } from '../operations/owners.js';
import { AFFILIATIONS, affiliatedRepositories, type Affiliation } from '../operations/user-repositories.js';
import type { ServerServices } from '../services.js';
import { optionalActor } from './caller.js';
import { defineRoute } from './define-route.js';
import { organizationJson, organizationSchema, repositorySchema, userJson, userSchema } from './json.js';
import { pageRequest, paginationQuery } from './pagination.js';
import { createFromBody, createRepositoryBody, describedRepositoryPage, readableRepositoryPage } from './repository-views.js';

const usernameParams = z.object({ username: z.string() });
const pageQuery = z.object(paginationQuery);

const affiliation = AFFILIATIONS.join('|');
const affiliationList = z
  .string()
  .regex(new RegExp(`^(${affiliation})(,(${affiliation}))*$`), `a comma-separated list of ${AFFILIATIONS.join(', ')}`)
  .meta({ description: `Which repositories: a comma-separated list of ${AFFILIATIONS.join(', ')} (default: all three, as GitHub)` });

export function usersRouter(services: ServerServices): Router {
  const router = Router();

  defineRoute(router, {
    method: 'get',
    path: '/user',
    tag: 'users',
    summary: 'The authenticated user',
    response: { status: 200, schema: userSchema },
    async handler({ req }) {
      const actor = requireActor(req, 'read:user');
      return userJson(actor.user, services.baseUrl(req), actor);
    },
  });

  defineRoute(router, {
    method: 'get',
    path: '/users/:username',
    tag: 'users',
    summary: 'A user (or an organisation, as GitHub answers for its name)',
    params: usernameParams,
    response: { status: 200, schema: z.union([userSchema, organizationSchema]) },
    async handler({ req, params }) {
      const viewer = optionalActor(req, 'read:user');
      const owner = await existingOwner(services.accounts, params.username);
      return owner.kind === 'user'
        ? userJson(owner.user, services.baseUrl(req), viewer)
        : organizationJson(owner.org, services.baseUrl(req));
    },
  });

  defineRoute(router, {
    method: 'get',
    path: '/users/:username/repos',
    tag: 'repos',
    summary: 'The repositories of a user (or organisation) that the caller may read',
    params: usernameParams,
    query: pageQuery,
    response: { status: 200, schema: z.array(repositorySchema) },
    async handler({ req, res, params, query }) {
      const viewer = optionalActor(req, 'read:repository');
      await existingOwner(services.accounts, params.username);
      const infos = await services.registry.listOwnedBy(params.username);
      return readableRepositoryPage(services, req, res, viewer, infos, pageRequest(query));
    },
  });

  defineRoute(router, {
    method: 'get',
    path: '/user/repos',
    tag: 'repos',
    summary: 'The repositories the authenticated user owns, reaches through its organisations and teams, or collaborates on',
    query: z.object({ ...paginationQuery, affiliation: affiliationList.optional() }),
    response: { status: 200, schema: z.array(repositorySchema) },
    async handler({ req, res, query }) {
      const actor = requireActor(req, 'read:repository');
      const affiliations = query.affiliation === undefined ? undefined : new Set(query.affiliation.split(',') as Affiliation[]);
      const repositories = await affiliatedRepositories(services, actor.user, affiliations);
      return describedRepositoryPage(services, req, res, repositories, pageRequest(query));
    },
  });

  defineRoute(router, {
    method: 'post',
    path: '/user/repos',
    tag: 'repos',
    summary: 'Create a repository owned by the authenticated user',
    body: createRepositoryBody,
    response: { status: 201, schema: repositorySchema },
    async handler({ req, res, body }) {
      const actor = requireActor(req, 'write:repository');
      return createFromBody(services, req, res, actor, actor.user.name, body);
    },
  });

  return router;
}
