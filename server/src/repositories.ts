import type { AccessLevel, AccountStore, User } from '@gitfleet/accounts';
import { HookStore, StatusStore, repositoryTarget } from '@gitfleet/events';
import { InvalidRepositoryName, validateRepositoryName, type RepositoryInfo, type RepositoryRegistry } from '@gitfleet/repository';
import type { KVStore } from '@gitfleet/storage';
import { HttpError } from './http-errors.js';

/** HttpError 400 with the validator's reason for a name that is not allowed. */
export function checkName(owner: string, name: string): void {
  try {
    validateRepositoryName(owner, name);
  } catch (error) {
    if (error instanceof InvalidRepositoryName) throw new HttpError(400, error.message);
    throw error;
  }
}

export function cloneUrl(baseUrl: string, owner: string, name: string): string {
  return `${baseUrl}/${encodeURIComponent(owner)}/${encodeURIComponent(name)}.git`;
}

/** What deleting a repository touches. */
export interface RepositoryStores {
  registry: RepositoryRegistry;
  accounts: AccountStore;
  kv: KVStore;
}

/**
 * Deletes a repository with everything keyed by its id: its registry entry (and refs), every
 * access grant naming it, its hooks with their delivery logs, and its commit statuses; nothing
 * of it outlives it. Its packs are left to a collector. False when the registry no longer had
 * it (deleted meanwhile).
 */
export async function deleteRepository({ registry, accounts, kv }: RepositoryStores, info: RepositoryInfo): Promise<boolean> {
  const deleted = await registry.delete(info.owner, info.name);
  await accounts.forgetRepository(info.id);
  await new HookStore(kv).deleteAll(repositoryTarget(info));
  await new StatusStore(kv).deleteAll(info.id);
  return deleted;
}

/** The repositories among `infos` that `user` (undefined: anonymous) may read, with that access; the checks run together. */
export async function readableRepositories(
  accounts: AccountStore,
  user: User | undefined,
  infos: readonly RepositoryInfo[],
): Promise<Array<{ info: RepositoryInfo; access: AccessLevel }>> {
  const levels = await Promise.all(infos.map((info) => accounts.repositoryAccess(user, info)));
  return infos.flatMap((info, index) => (levels[index] === 'none' ? [] : [{ info, access: levels[index] }]));
}
