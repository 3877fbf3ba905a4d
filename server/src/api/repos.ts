/**
 * Repositories: POST /repos (site administrators, under any owner), and one repository's GET,
 * PATCH (description, visibility, default branch, name) and DELETE /repos/{owner}/{repo}, and
 * POST /repos/{owner}/{repo}/transfer. Reading needs read access; changing, transferring or
 * deleting it, admin.
 */
import { LfsObjectRecords } from '@gitfleet/repository';
import { Router } from 'express';
import { z } from 'zod';
import { authorizeRepository, requireActor, requireSiteAdmin } from '../auth/index.js';
import { checkName, HttpError } from '../http-errors.js';
import { changeRepository } from '../operations/change-repository.js';
import { createRepository } from '../operations/create-repository.js';
import { deleteRepository } from '../operations/delete-repository.js';
import { OwnerNotFound } from '../operations/errors.js';
import { transferRepository } from '../operations/transfer-repository.js';
import type { ServerServices } from '../services.js';
import { defineRoute } from './define-route.js';
import { repositorySchema } from './json.js';
import { branchName, describeCreated, describeRepository, repositoryName } from './repository-views.js';

const repoParams = z.object({ owner: z.string(), repo: z.string() });

// Only on GET of one repository: one more read per repository would slow every list of them.
const repositoryWithLfsSchema = repositorySchema.extend({
  lfs_size: z.number().int().meta({ description: 'bytes of the Git LFS objects the repository holds' }),
});

export function reposRouter(services: ServerServices): Router {
  const router = Router();

  defineRoute(router, {
    method: 'post',
    path: '/repos',
    tag: 'admin',
    summary: 'Create a repository under any user or organisation (site administrators)',
    body: describedOnly(adminCreationBody),
    // Its body is four fields.
    bodyLimit: '4kb',
    response: { status: 201, schema: repositorySchema },
    async handler({ req, res }) {
      requireSiteAdmin(req, 'write:admin');
      const creation = adminCreation(req.body);
      checkName(creation.owner, creation.name);
      const repo = await createRepository(services, creation).catch((error: unknown) => {
        if (error instanceof OwnerNotFound)
          throw new HttpError(422, `owner ${creation.owner} does not exist: create the user or organization first`);
        throw error;
      });
      return describeCreated(services, req, res, repo);
    },
  });

  defineRoute(router, {
    method: 'get',
    path: '/repos/:owner/:repo',
    tag: 'repos',
    summary: 'A repository, with the size of its Git LFS objects',
    params: repoParams,
    response: { status: 200, schema: repositoryWithLfsSchema },
    async handler({ req, params }) {
      const { repo, access } = await authorizeRepository(services, req, params.owner, params.repo, 'read', 'api');
      const [described, lfsSize] = await Promise.all([
        describeRepository(services, req, repo, access),
        new LfsObjectRecords(services.kv).repositoryBytes(repo.info.id),
      ]);
      return { ...described, lfs_size: lfsSize };
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
      const change = { name: body.name, description: body.description, private: body.private, defaultBranch: body.default_branch };
      const updated = await changeRepository(services.registry, repo, change, 'in-an-empty-repository');
      if (!updated) throw new HttpError(404, `repository ${repo.info.owner}/${repo.info.name} not found`);
      return describeRepository(services, req, updated, access);
    },
  });

  defineRoute(router, {
    method: 'post',
    path: '/repos/:owner/:repo/transfer',
    tag: 'repos',
    summary:
      'Transfer a repository to another user or organisation, optionally renaming it (repository admins who may create repositories under the new owner); collaborators stay, team grants are dropped',
    params: repoParams,
    body: z.object({ new_owner: z.string().min(1), new_name: repositoryName.optional() }),
    response: { status: 202, schema: repositorySchema, description: 'The repository at its new place' },
    async handler({ req, params, body }) {
      const { repo } = await authorizeRepository(services, req, params.owner, params.repo, 'admin', 'api');
      const { user } = requireActor(req);
      const moved = await transferRepository(services, repo, { newOwner: body.new_owner, newName: body.new_name, by: user });
      if (!moved) throw new HttpError(404, `repository ${repo.info.owner}/${repo.info.name} not found`);
      return describeRepository(services, req, moved, await services.accounts.repositoryAccess(user, moved.info));
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

const MAX_DESCRIPTION = 2048;

const adminCreationBody = z.object({
  owner: z.string(),
  name: z.string(),
  private: z.boolean().optional(),
  description: z.string().max(MAX_DESCRIPTION).optional(),
});

/**
 * A body schema for the OpenAPI document only: POST /repos checks its body itself, since a
 * body that is not {owner, name} strings is a 400 there, where defineRoute would answer 422.
 */
function describedOnly(schema: z.ZodObject): z.ZodType {
  const { $schema: _dialect, ...jsonSchema } = z.toJSONSchema(schema, { io: 'input' });
  return z.unknown().meta(jsonSchema);
}

/** The fields of a POST /repos body: 400 unless it is an object with string owner and name, 422 for a bad private or description. */
function adminCreation(body: unknown): { owner: string; name: string; private: boolean; description: string } {
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
