/**
 * Storage usage and quotas per owner: GET /users/{owner}/storage (for the owner, who may create
 * under an organisation, and site administrators), GET and PUT /admin/quotas/{owner} (site
 * administrators). Sizes in bytes; a null limit is no limit.
 */
import type { StorageQuota } from '@gitfleet/accounts';
import { Router } from 'express';
import { z } from 'zod';
import { requireSiteAdmin } from '../auth/index.js';
import { existingOwner, ownerName } from '../operations/owners.js';
import { ownerStorage, type OwnerStorage } from '../operations/storage-quotas.js';
import type { ServerServices } from '../services.js';
import { optionalActor } from './caller.js';
import { defineRoute } from './define-route.js';

const ownerParams = z.object({ owner: z.string() });

const limit = z.number().int().nonnegative().nullable();
const quotaFields = z.object({
  packs_bytes: limit.meta({ description: 'Git packs of all its repositories; null: no limit' }),
  lfs_bytes: limit.meta({ description: 'Git LFS objects of all its repositories; null: no limit' }),
  total_bytes: limit.meta({ description: 'both together; null: no limit' }),
});

export const ownerQuotaSchema = quotaFields.extend({ owner: z.string() }).meta({ id: 'OwnerQuota' });

export const ownerStorageSchema = z
  .object({
    owner: z.string(),
    usage: z.object({ packs_bytes: z.number().int(), lfs_bytes: z.number().int(), total_bytes: z.number().int() }),
    quota: quotaFields,
  })
  .meta({ id: 'OwnerStorage' });

/** A quota as the API (and the CLI's --json) shows it: every limit present, null when there is none. */
export function quotaJson(quota: StorageQuota): z.infer<typeof quotaFields> {
  return { packs_bytes: quota.packsBytes ?? null, lfs_bytes: quota.lfsBytes ?? null, total_bytes: quota.totalBytes ?? null };
}

export function ownerStorageJson(storage: OwnerStorage): z.infer<typeof ownerStorageSchema> {
  const { usage } = storage;
  return {
    owner: storage.owner,
    usage: { packs_bytes: usage.packsBytes, lfs_bytes: usage.lfsBytes, total_bytes: usage.totalBytes },
    quota: quotaJson(storage.quota),
  };
}

export function storageRouter(services: ServerServices): Router {
  const router = Router();

  defineRoute(router, {
    method: 'get',
    path: '/users/:owner/storage',
    tag: 'users',
    summary:
      "A user's or organisation's storage: what its repositories hold and its quota (for the owner, its creators and site administrators)",
    params: ownerParams,
    response: { status: 200, schema: ownerStorageSchema },
    async handler({ req, params }) {
      // Anonymous callers get the 404 a stranger gets: whether the owner exists is public, its storage is not.
      const viewer = optionalActor(req, 'read:user');
      return ownerStorageJson(await ownerStorage(services.accounts, services.quotas, viewer?.user, params.owner));
    },
  });

  defineRoute(router, {
    method: 'get',
    path: '/admin/quotas/:owner',
    tag: 'admin',
    summary: "An owner's storage quota",
    params: ownerParams,
    response: { status: 200, schema: ownerQuotaSchema },
    async handler({ req, params }) {
      requireSiteAdmin(req, 'read:admin');
      const owner = ownerName(await existingOwner(services.accounts, params.owner));
      return { owner, ...quotaJson(await services.quotas.quota(owner)) };
    },
  });

  defineRoute(router, {
    method: 'put',
    path: '/admin/quotas/:owner',
    tag: 'admin',
    summary: "Replace an owner's storage quota (a limit left out or null is no limit)",
    params: ownerParams,
    // Strict: a misspelt field would otherwise be dropped, and the PUT would lift that limit.
    body: quotaFields.partial().strict(),
    response: { status: 200, schema: ownerQuotaSchema },
    async handler({ req, params, body }) {
      requireSiteAdmin(req, 'write:admin');
      const owner = ownerName(await existingOwner(services.accounts, params.owner));
      await services.quotas.setQuota(owner, {
        packsBytes: body.packs_bytes ?? undefined,
        lfsBytes: body.lfs_bytes ?? undefined,
        totalBytes: body.total_bytes ?? undefined,
      });
      return { owner, ...quotaJson(await services.quotas.quota(owner)) };
    },
  });

  return router;
}
