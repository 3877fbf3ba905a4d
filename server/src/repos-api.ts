import express, { Router, type Request } from 'express';
import { RepositoryExists, type RepositoryRegistry } from '@gitfleet/repository';
import { HttpError } from './http-errors.js';
import { checkName, describeRepository, openRepository } from './repositories.js';

export interface ReposApiOptions {
  registry: RepositoryRegistry;
  /** The base URL for clone URLs as seen by this request's client. */
  baseUrl(req: Request): string;
}

/** REST API under /api/v1 (until accounts exist, anyone may create a repository). */
export function reposApiRouter({ registry, baseUrl }: ReposApiOptions): Router {
  const router = Router();
  // Every body is read as JSON whatever its Content-Type, because `curl -d '{…}'` sends
  // application/x-www-form-urlencoded; the small limit keeps the parser cheap.
  const json = express.json({ limit: '4kb', type: () => true });

  router.post('/repos', json, async (req, res) => {
    const { owner, name } = repositoryFields(req.body);
    checkName(owner, name);
    let repo;
    try {
      repo = await registry.create(owner, name, { defaultBranch: 'main' });
    } catch (error) {
      if (error instanceof RepositoryExists) throw new HttpError(409, `repository ${owner}/${name} already exists`);
      throw error;
    }
    const description = await describeRepository(repo, baseUrl(req));
    res.status(201).location(`/api/v1/repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`).json(description);
  });

  router.get('/repos/:owner/:name', async (req, res) => {
    const repo = await openRepository(registry, req.params.owner, req.params.name);
    res.json(await describeRepository(repo, baseUrl(req)));
  });

  return router;
}

function repositoryFields(body: unknown): { owner: string; name: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'expected a JSON object {"owner": "...", "name": "..."}');
  }
  const { owner, name } = body as Record<string, unknown>;
  if (typeof owner !== 'string' || typeof name !== 'string') {
    throw new HttpError(400, 'both "owner" and "name" must be strings');
  }
  return { owner, name };
}
