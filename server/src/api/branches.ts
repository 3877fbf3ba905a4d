/** Branches: GET /repos/{owner}/{repo}/branches and …/branches/{branch} (names may hold "/"). */
import { Router } from 'express';
import { z } from 'zod';
import { listBranches, readCommit } from '@gitfleet/browse';
import { HttpError } from '../http-errors.js';
import { defineRoute } from './define-route.js';
import { pageRequest, paginateList, paginationQuery } from './pagination.js';
import {
  commitJson,
  commitSchema,
  encodePath,
  openForRead,
  refCommitJson,
  refCommitSchema,
  repositoryParams,
  repositoryUrls,
  wildcardParam,
} from './git-json.js';
import type { ServerServices } from '../services.js';

const branchSchema = z
  .object({ name: z.string(), commit: refCommitSchema, protected: z.boolean() })
  .meta({ id: 'Branch', description: 'A branch as GitHub lists it' });

const branchDetailSchema = z
  .object({
    name: z.string(),
    commit: commitSchema,
    _links: z.object({ self: z.string(), html: z.string() }),
    protected: z.boolean(),
  })
  .meta({ id: 'BranchDetail', description: 'One branch with its head commit' });

export function branchesRouter(services: ServerServices): Router {
  const router = Router();

  defineRoute(router, {
    method: 'get',
    path: '/repos/:owner/:repo/branches',
    tag: 'git',
    summary: 'List branches',
    params: repositoryParams,
    query: z.object(paginationQuery),
    response: { status: 200, schema: z.array(branchSchema) },
    async handler({ req, res, params, query }) {
      const repo = await openForRead(services, req, params);
      const urls = repositoryUrls(services, req, repo);
      const branches = await listBranches(repo);
      const page = paginateList(req, res, services.baseUrl(req), branches, pageRequest(query));
      return page.map((branch) => ({ name: branch.name, commit: refCommitJson(urls, branch.commit), protected: false }));
    },
  });

  defineRoute(router, {
    method: 'get',
    path: '/repos/:owner/:repo/branches/*branch',
    tag: 'git',
    summary: 'Get a branch (its name may contain "/")',
    params: repositoryParams,
    response: { status: 200, schema: branchDetailSchema },
    async handler({ req, params }) {
      const repo = await openForRead(services, req, params);
      const urls = repositoryUrls(services, req, repo);
      const name = wildcardParam(req, 'branch');
      // The ref itself, not resolveRevision: "main~1" is a revision but names no branch.
      const commit = await repo.refs.get(`refs/heads/${name}`);
      if (commit === undefined) throw new HttpError(404, `branch ${name} not found in ${repo.info.owner}/${repo.info.name}`);
      return {
        name,
        commit: commitJson(urls, await readCommit(repo, commit)),
        _links: { self: `${urls.api}/branches/${encodePath(name)}`, html: `${urls.html}/tree/${encodePath(name)}` },
        protected: false,
      };
    },
  });

  return router;
}
