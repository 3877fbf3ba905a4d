/**
 * GET /repos/{owner}/{repo}/compare/{base}...{head} in GitHub's shape: how head stands against
 * base (ahead, behind, diverged, identical), head's commits not in base, and the diff from
 * their merge base to head. Branch names may hold "/", so the pair is one wildcard split at "...".
 */
import { Router } from 'express';
import { z } from 'zod';
import { compare, readCommit } from '@gitfleet/browse';
import { defineRoute } from './define-route.js';
import {
  changedFileSchema,
  changedFilesJson,
  commitJson,
  commitSchema,
  diffCompleteness,
  diffCompletenessShape,
  encodePath,
  openForRead,
  repositoryParams,
  repositoryUrls,
  revisionOrDefault,
  wildcardParam,
} from './git-json.js';
import { MAX_FILES_PER_COMMIT } from './commits.js';
import { diffOptions } from '../browsing.js';
import { MAX_COMPARE_COMMITS, splitBasehead } from '../operations/compare.js';
import { HttpError } from '../http-errors.js';
import type { ServerServices } from '../services.js';

const comparisonSchema = z
  .looseObject({
    url: z.string(),
    base_commit: commitSchema,
    merge_base_commit: commitSchema,
    status: z.enum(['ahead', 'behind', 'diverged', 'identical']),
    ahead_by: z.number(),
    behind_by: z.number(),
    total_commits: z.number(),
    commits: z.array(commitSchema),
    files: z.array(changedFileSchema),
    ...diffCompletenessShape,
  })
  .meta({ id: 'Comparison', description: 'How head stands against base' });

export function compareRouter(services: ServerServices): Router {
  const router = Router();

  defineRoute(router, {
    method: 'get',
    path: '/repos/:owner/:repo/compare/*basehead',
    tag: 'git',
    summary: 'Compare two revisions: {base}...{head}',
    params: repositoryParams,
    response: { status: 200, schema: comparisonSchema },
    async handler({ req, params }) {
      const repo = await openForRead(services, req, params);
      const urls = repositoryUrls(services, req, repo);
      const basehead = wildcardParam(req, 'basehead');
      const [baseName, headName] = splitBasehead(basehead);
      const base = await revisionOrDefault(repo, baseName);
      const head = await revisionOrDefault(repo, headName);
      const result = await compare(repo, base.commit, head.commit, {
        maxCommits: MAX_COMPARE_COMMITS,
        ...diffOptions(services.browsing, { maxFiles: MAX_FILES_PER_COMMIT }),
      });
      if (result.mergeBase === undefined) {
        // A walk cut short at its bound has not proven that the histories share nothing.
        if (result.countsCapped) throw new HttpError(422, `${baseName} and ${headName} are too far apart to compare`);
        throw new HttpError(404, `No common ancestor between ${baseName} and ${headName}.`);
      }
      return {
        url: `${urls.api}/compare/${encodePath(basehead)}`,
        base_commit: commitJson(urls, await readCommit(repo, base.commit)),
        merge_base_commit: commitJson(urls, await readCommit(repo, result.mergeBase)),
        status: comparisonStatus(result.aheadBy, result.behindBy),
        ahead_by: result.aheadBy,
        behind_by: result.behindBy,
        total_commits: result.aheadBy,
        commits: result.commits.map((commit) => commitJson(urls, commit)),
        files: changedFilesJson(urls, head.commit, result.diff),
        ...diffCompleteness(result.diff),
      };
    },
  });

  return router;
}

function comparisonStatus(aheadBy: number, behindBy: number): 'ahead' | 'behind' | 'diverged' | 'identical' {
  if (aheadBy === 0 && behindBy === 0) return 'identical';
  if (behindBy === 0) return 'ahead';
  if (aheadBy === 0) return 'behind';
  return 'diverged';
}
