/**
 * Transferring a repository to another user or organisation, as GitHub does: it keeps its id,
 * so its refs, packs, hooks, commit statuses and collaborators go with it; the grants of the
 * old owner's teams do not, since those teams belong to an organisation that no longer owns it.
 */
import type { AccountStore, User } from '@gitfleet/accounts';
import type { Repository, RepositoryRegistry } from '@gitfleet/repository';
import { creationOwner } from './create-repository.js';
import { ownerName } from './owners.js';

export interface RepositoryTransfer {
  /** The user or organisation receiving it, in any case: it is filed under the name as stored. */
  newOwner: string;
  /** Its name under the new owner; the current one when absent. */
  newName?: string;
  /**
   * Who transfers it, when it must be checked: they must be allowed to create repositories under
   * the new owner. Their admin access to the repository is the surface's to check, as for every
   * change of a repository (it decides between 403 and the 404 that hides a private one).
   * Absent for the operator (the CLI), who may transfer to any owner.
   */
  by?: User;
}

/**
 * Moves the repository to its new owner and name in one atomic step of the registry; undefined
 * when it was deleted meanwhile. A transfer to its own owner is a rename and keeps every grant.
 * Throws OwnerNotFound, CreationRefused, InvalidRepositoryName and RepositoryExists, in that
 * order of checking.
 */
export async function transferRepository(
  stores: { accounts: AccountStore; registry: RepositoryRegistry },
  repo: Repository,
  transfer: RepositoryTransfer,
): Promise<Repository | undefined> {
  const owner = ownerName(await creationOwner(stores.accounts, transfer.newOwner, transfer.by));
  const moved = await stores.registry.update(repo.info.owner, repo.info.name, { owner, name: transfer.newName });
  // Dropped after the move: in between, the old teams' grants already count for nothing, since
  // access counts only the teams of the organisation that owns the repository.
  if (moved && moved.info.owner.toLowerCase() !== repo.info.owner.toLowerCase()) await stores.accounts.forgetRepositoryTeams(moved.info.id);
  return moved;
}
