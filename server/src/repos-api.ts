import express, { Router } from 'express';
import { RepositoryExists } from '@gitfleet/repository';
import { describeRepository } from './api/repository-views.js';
import { requireSiteAdmin } from './auth/index.js';
import { HttpError } from './http-errors.js';
import { checkName } from './repositories.js';
import type { ServerServices } from './services.js';

/**
 * The core issue's `POST /api/v1/repos` {owner, name, private?, description?}: creates a
 * repository under any existing user or organisation, for site administrators (everyone else
 * uses POST /user/repos or /orgs/{org}/repos). It answers with the repository's JSON as
 * GET /repos/{owner}/{repo} (api/repos.ts) does.
 */
export function reposApiRouter(services: ServerServices): Router {
  const { registry, accounts } = services;
  const router = Router();
  // Every body is read as JSON whatever its Content-Type, because `curl -d '{…}'` sends
  // application/x-www-form-urlencoded; the small limit keeps the parser cheap.
  const json = express.json({ limit: '4kb', type: () => true });

  router.post('/repos', json, async (req, res) => {
    requireSiteAdmin(req, 'write:admin');
    const fields = repositoryFields(req.body);
    checkName(fields.owner, fields.name);
    const owner = await accounts.getOwner(fields.owner);
    if (!owner) throw new HttpError(422, `owner ${fields.owner} does not exist: create the user or organization first`);
    const ownerName = owner.kind === 'user' ? owner.user.name : owner.org.name;
    let repo;
    try {
      repo = await registry.create(ownerName, fields.name, { defaultBranch: 'main', private: fields.private, description: fields.description });
    } catch (error) {
      if (error instanceof RepositoryExists) throw new HttpError(409, `repository ${ownerName}/${fields.name} already exists`);
      throw error;
    }
    const body = await describeRepository(services, req, repo, 'admin');
    res.status(201).location(`/api/v1/repos/${encodeURIComponent(ownerName)}/${encodeURIComponent(fields.name)}`).json(body);
  });

  return router;
}

const MAX_DESCRIPTION = 2048;

function repositoryFields(body: unknown): { owner: string; name: string; private: boolean; description: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'expected a JSON object {"owner": "...", "name": "...", "private": false, "description": "..."}');
  }
  const { owner, name, private: isPrivate = false, description = '' } = body as Record<string, unknown>;
  if (typeof owner !== 'string' || typeof name !== 'string') {
    throw new HttpError(400, 'both "owner" and "name" must be strings');
  }
  if (typeof isPrivate !== 'boolean') throw new HttpError(422, '"private" must be true or false');
  // eslint-disable-next-line no-control-regex
  if (typeof description !== 'string' || description.length > MAX_DESCRIPTION || /[\u0000-\u0008\u000b-\u001f\u007f]/.test(description)) {
    throw new HttpError(422, `"description" must be a string of at most ${MAX_DESCRIPTION} characters without control characters`);
  }
  return { owner, name, private: isPrivate, description };
}
