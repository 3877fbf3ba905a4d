/** Storage on the pages: an owner's usage against its quota, a repository's Git LFS objects. */
import type { User } from '@gitfleet/accounts';
import { LfsObjectRecords } from '@gitfleet/repository';
import { formatBytes } from '../format-bytes.js';
import { OwnerNotFound } from '../operations/errors.js';
import { ownerStorage, type OwnerStorage } from '../operations/storage-quotas.js';
import type { ServerServices } from '../services.js';
import { html, type Html } from './html.js';

const KINDS = [
  { field: 'packsBytes', label: 'Git data' },
  { field: 'lfsBytes', label: 'Git LFS' },
  { field: 'totalBytes', label: 'Total' },
] as const;

/**
 * The owner's storage box for a viewer who may see it (ownerStorage says who: the user, who may
 * create under the organisation, site administrators); nothing for anyone else.
 */
export async function ownerStorageBox(services: ServerServices, viewer: User | undefined, owner: string): Promise<Html | ''> {
  let storage: OwnerStorage;
  try {
    storage = await ownerStorage(services.accounts, services.quotas, viewer, owner);
  } catch (error) {
    if (error instanceof OwnerNotFound) return '';
    throw error;
  }
  const rows = KINDS.map(({ field, label }) => {
    const used = storage.usage[field];
    const limit = storage.quota[field];
    return html`<li data-storage="${field}"><span class="grow">${label}</span><span>${formatBytes(used)}${
      limit === undefined ? '' : html` of ${formatBytes(limit)}`
    }</span>${limit === undefined ? '' : html`<meter min="0" max="${limit}" value="${Math.min(used, limit)}" high="${limit * 0.9}"></meter>`}</li>`;
  });
  return html`<div class="box" id="owner-storage"><div class="box-header"><strong>Storage</strong></div><ul class="list">${rows}</ul></div>`;
}

/** The repository's Git LFS objects, their number and size; nothing when it has none. */
export async function lfsUsageBox(services: ServerServices, repositoryId: string): Promise<Html | ''> {
  const records = new LfsObjectRecords(services.kv);
  // The sum is one key; the objects are listed only for a repository that has some.
  if ((await records.repositoryBytes(repositoryId)) === 0) return '';
  const objects = await records.list(repositoryId);
  const bytes = objects.reduce((sum, object) => sum + object.size, 0);
  return html`<div class="box" id="lfs-usage" data-objects="${objects.length}" data-bytes="${bytes}"><div class="box-header"><strong>Git LFS</strong></div>
<div class="box-body">${objects.length} ${objects.length === 1 ? 'object' : 'objects'}, ${formatBytes(bytes)}</div></div>`;
}
