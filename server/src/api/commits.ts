/**
 * Commits: GET /repos/{owner}/{repo}/commits (history a page at a time; no total, since counting
 * would walk the whole history) and …/commits/{ref} (one commit with its diff stats and files).
 */
import { Router } from 'express';
import { z } from 'zod';
import { commitDiff, log, readCommit } from '@gitfleet/browse';
import { defineRoute } from './define-route.js';
import { pageRequest, paginationQuery, setLinkHeader } from './pagination.js';
import {
  changedFilesJson,
  commitDetailSchema,
  commitJson,
  commitSchema,
  diffCompleteness,
  diffStats,
  openForRead,
  repositoryParams,
  repositoryUrls,
  revisionOrDefault,
  wildcardParam,
} from './git-json.js';
import { diffOptions } from '../browsing.js';
import type { ServerServices } from '../services.js';

/** GitHub lists at most 300 files of a commit. */
export const MAX_FILES_PER_COMMIT = 300;

const STATUS_SUFFIX = /\/status(es)?$/;

const listQuery = z.object({
  sha: z.string().optional().meta({ description: 'Branch, tag or commit to start from (default: the default branch)' }),
  path: z.string().optional().meta({ description: 'Only commits that changed this path' }),
  ...paginationQuery,
});

export function commitsRouter(services: ServerServices): Router {
  const router = Router();

  defineRoute(router, {
    method: 'get',
    path: '/repos/:owner/:repo/commits',
    tag: 'git',
    summary: 'List commits, newest first (Link rel="next" while more exist)',
    params: repositoryParams,
    query: listQuery,
    response: { status: 200, schema: z.array(commitSchema) },
    async handler({ req, res, params, query }) {
      const repo = await openForRead(services, req, params);
      const urls = repositoryUrls(services, req, repo);
      const start = await revisionOrDefault(repo, query.sha);
      const page = pageRequest(query);
      const path = query.path?.replace(/^\/+|\/+$/g, '');
      const history = await log(repo, start.commit, { limit: page.perPage, skip: page.offset, ...(path ? { path } : {}) });
      setLinkHeader(req, res, services.baseUrl(req), page, { hasNext: history.hasMore });
      return history.commits.map((commit) => commitJson(urls, commit));
    },
  });

  // A ref may hold "/", so the route below takes every segment, and would swallow a commit's
  // statuses (…/commits/{ref}/status, …/statuses), which another router answers: hand those on.
  router.get('/repos/:owner/:repo/commits/*ref', (req, _res, next) => {
    next(STATUS_SUFFIX.test(wildcardParam(req, 'ref')) ? 'router' : undefined);
  });
  defineRoute(router, {
    method: 'get',
    path: '/repos/:owner/:repo/commits/*ref',
    tag: 'git',
    summary: 'Get a commit with its changes against its first parent',
    params: repositoryParams,
    response: { status: 200, schema: commitDetailSchema },
    async handler({ req, params }) {
      const repo = await openForRead(services, req, params);
      const urls = repositoryUrls(services, req, repo);
      const { commit: oid } = await revisionOrDefault(repo, wildcardParam(req, 'ref'));
      const commit = await readCommit(repo, oid);
      const diff = await commitDiff(repo, oid, diffOptions(services.browsing, { maxFiles: MAX_FILES_PER_COMMIT }));
      return { ...commitJson(urls, commit), stats: diffStats(diff), files: changedFilesJson(urls, oid, diff), ...diffCompleteness(diff) };
    },
  });

  return router;
}
