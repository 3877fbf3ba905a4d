/**
 * One repository: GET, PATCH (description, visibility, default branch, name) and DELETE
 * /repos/{owner}/{repo}. Reading needs read access; changing or deleting it, admin.
 */
import { Router } from 'express';
import { z } from 'zod';
import { authorizeRepository } from '../auth/index.js';
import { HttpError } from '../http-errors.js';
import { deleteRepository } from '../repositories.js';
import type { ServerServices } from '../services.js';
import { defineRoute } from './define-route.js';
import { repositorySchema } from './json.js';
import { branchName, describeRepository, repositoryName } from './repository-views.js';

const repoParams = z.object({ owner: z.string(), repo: z.string() });

export function reposRouter(services: ServerServices): Router {
  const router = Router();

  defineRoute(router, {
    method: 'get',
    path: '/repos/:owner/:repo',
    tag: 'repos',
    summary: 'A repository',
    params: repoParams,
    response: { status: 200, schema: repositorySchema },
    async handler({ req, params }) {
      const { repo, access } = await authorizeRepository(services, req, params.owner, params.repo, 'read', 'api');
      return describeRepository(services, req, repo, access);
    },
  });

  defineRoute(router, {
    method: 'patch',
    path: '/repos/:owner/:repo',
    tag: 'repos',
    summary: "Change a repository's description, visibility, default branch or name (repository admins)",
    params: repoParams,
    body: z.object({
      name: repositoryName.optional(),
      description: z.string().max(2048).optional(),
      private: z.boolean().optional(),
      default_branch: branchName.optional(),
    }),
    response: { status: 200, schema: repositorySchema },
    async handler({ req, params, body }) {
      const { repo, access } = await authorizeRepository(services, req, params.owner, params.repo, 'admin', 'api');
      if (body.default_branch !== undefined) {
        const head = `refs/heads/${body.default_branch}`;
        // An empty repository may point HEAD anywhere (its first push creates the branch), as git init does.
        const empty = (await repo.refs.list('refs/heads/')).length === 0;
        if (!empty && (await repo.refs.get(head)) === undefined) {
          throw new HttpError(422, `branch ${body.default_branch} does not exist in ${repo.info.owner}/${repo.info.name}`);
        }
      }
      const updated = await services.registry.update(repo.info.owner, repo.info.name, {
        name: body.name,
        description: body.description,
        private: body.private,
      });
      if (!updated) throw new HttpError(404, `repository ${repo.info.owner}/${repo.info.name} not found`);
      if (body.default_branch !== undefined) await updated.refs.setHead(`refs/heads/${body.default_branch}`);
      return describeRepository(services, req, updated, access);
    },
  });

  defineRoute(router, {
    method: 'delete',
    path: '/repos/:owner/:repo',
    tag: 'repos',
    summary: 'Delete a repository (repository admins)',
    params: repoParams,
    response: { status: 204 },
    async handler({ req, params }) {
      const { repo } = await authorizeRepository(services, req, params.owner, params.repo, 'admin', 'api');
      await deleteRepository(services, repo.info);
    },
  });

  return router;
}
