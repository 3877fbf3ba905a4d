import type { AccessLevel, AccountStore, User } from '@gitfleet/accounts';
import { InvalidRepositoryName, validateRepositoryName, type RepositoryInfo, type RepositoryRegistry } from '@gitfleet/repository';
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

/**
 * Deletes a repository from both stores that know it: its registry entry (and refs), then every
 * access grant naming its id, so that no collaborator or team entry outlives it. Its packs are
 * left to a collector. False when the registry no longer had it (deleted meanwhile).
 */
export async function deleteRepository(registry: RepositoryRegistry, accounts: AccountStore, info: RepositoryInfo): Promise<boolean> {
  const deleted = await registry.delete(info.owner, info.name);
  await accounts.forgetRepository(info.id);
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
