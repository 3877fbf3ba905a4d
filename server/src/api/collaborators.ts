/**
 * Collaborators of a repository: GET /repos/{owner}/{repo}/collaborators (writers and admins,
 * as GitHub), PUT/DELETE …/collaborators/{username} (repository admins), and
 * GET …/collaborators/{username}/permission (readers).
 */
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { User } from '@gitfleet/accounts';
import { authorizeRepository, requestActor } from '../auth/index.js';
import { HttpError } from '../http-errors.js';
import type { ServerServices } from '../services.js';
import { defineRoute } from './define-route.js';
import { collaboratorSchema, permissionFromJson, permissionSchema, permissionsJson, repositoryPermissionSchema, userJson } from './json.js';
import { pageRequest, paginateList, paginationQuery } from './pagination.js';

const repoParams = z.object({ owner: z.string(), repo: z.string() });
const collaboratorParams = repoParams.extend({ username: z.string() });

export function collaboratorsRouter(services: ServerServices): Router {
  const router = Router();
  const base = (req: Request) => services.baseUrl(req);
  const existingUser = async (name: string): Promise<User> => {
    const user = await services.accounts.getUser(name);
    if (!user) throw new HttpError(404, `user ${name} not found`);
    return user;
  };

  defineRoute(router, {
    method: 'get',
    path: '/repos/:owner/:repo/collaborators',
    tag: 'collaborators',
    summary: "A repository's collaborators (for those who may push to it)",
    params: repoParams,
    query: z.object(paginationQuery),
    response: { status: 200, schema: z.array(collaboratorSchema) },
    async handler({ req, res, params, query }) {
      const { repo } = await authorizeRepository(services, req, params.owner, params.repo, 'write', 'api');
      const actor = requestActor(req);
      const collaborators = await services.accounts.listCollaborators(repo.info.id);
      return paginateList(req, res, base(req), collaborators, pageRequest(query)).map(({ user, permission }) => ({
        ...userJson(user, base(req), actor),
        permissions: permissionsJson(permission),
        role_name: permission,
      }));
    },
  });

  defineRoute(router, {
    method: 'put',
    path: '/repos/:owner/:repo/collaborators/:username',
    tag: 'collaborators',
    summary: 'Add a collaborator or change its permission (repository admins)',
    params: collaboratorParams,
    body: z.object({ permission: permissionSchema.default('write') }),
    response: { status: 204 },
    async handler({ req, params, body }) {
      const { repo } = await authorizeRepository(services, req, params.owner, params.repo, 'admin', 'api');
      const user = await existingUser(params.username);
      await services.accounts.setCollaborator(repo.info.id, user.name, permissionFromJson(body.permission));
    },
  });

  defineRoute(router, {
    method: 'delete',
    path: '/repos/:owner/:repo/collaborators/:username',
    tag: 'collaborators',
    summary: 'Remove a collaborator (repository admins)',
    params: collaboratorParams,
    response: { status: 204 },
    async handler({ req, params }) {
      const { repo } = await authorizeRepository(services, req, params.owner, params.repo, 'admin', 'api');
      const user = await existingUser(params.username);
      await services.accounts.removeCollaborator(repo.info.id, user.name);
    },
  });

  defineRoute(router, {
    method: 'get',
    path: '/repos/:owner/:repo/collaborators/:username/permission',
    tag: 'collaborators',
    summary: "A user's effective permission on a repository",
    params: collaboratorParams,
    response: { status: 200, schema: repositoryPermissionSchema },
    async handler({ req, params }) {
      const { repo } = await authorizeRepository(services, req, params.owner, params.repo, 'read', 'api');
      const user = await existingUser(params.username);
      const permission = await services.accounts.repositoryAccess(user, repo.info);
      return { permission, role_name: permission, user: userJson(user, base(req), undefined) };
    },
  });

  return router;
}
