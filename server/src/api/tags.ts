/** Tags: GET /repos/{owner}/{repo}/tags, as GitHub lists them (annotated tags peeled to their commit). */
import { Router } from 'express';
import { z } from 'zod';
import { RevisionNotFound } from '@gitfleet/browse';
import type { ObjectId } from '@gitfleet/git-format';
import type { Repository } from '@gitfleet/repository';
import { defineRoute } from './define-route.js';
import { pageRequest, paginateList, paginationQuery } from './pagination.js';
import { openForRead, refCommitJson, refCommitSchema, repositoryParams, repositoryUrls } from './git-json.js';
import { resolveRevision } from '../operations/revisions.js';
import type { ServerServices } from '../services.js';

const TAGS = 'refs/tags/';

const tagSchema = z.object({ name: z.string(), commit: refCommitSchema }).meta({ id: 'Tag', description: 'A tag and the commit it names' });

export function tagsRouter(services: ServerServices): Router {
  const router = Router();

  defineRoute(router, {
    method: 'get',
    path: '/repos/:owner/:repo/tags',
    tag: 'git',
    summary: 'List tags (a tag of a tree or a blob names no commit and is left out)',
    params: repositoryParams,
    query: z.object(paginationQuery),
    response: { status: 200, schema: z.array(tagSchema) },
    async handler({ req, res, params, query }) {
      const repo = await openForRead(services, req, params);
      const urls = repositoryUrls(services, req, repo);
      // Paginate the refs first and peel only this page's: peeling costs an object read per
      // annotated tag, and a repository may have thousands.
      const refs = await repo.refs.list(TAGS);
      const page = paginateList(req, res, services.baseUrl(req), refs, pageRequest(query));
      const peeled = await Promise.all(page.map((ref) => peelToCommit(repo, ref.name)));
      return page.flatMap((ref, index) => {
        const commit = peeled[index];
        return commit === undefined ? [] : [{ name: ref.name.slice(TAGS.length), commit: refCommitJson(urls, commit) }];
      });
    },
  });

  return router;
}

/** The commit a tag names, undefined for a tag of a tree or a blob. */
async function peelToCommit(repo: Repository, ref: string): Promise<ObjectId | undefined> {
  try {
    return await resolveRevision(repo, ref);
  } catch (error) {
    if (error instanceof RevisionNotFound) return undefined;
    throw error;
  }
}
