/**
 * Creating a repository, for every surface: the REST API (under the caller, an organisation,
 * or any owner for site administrators), the web form, the CLI and a push to a repository that
 * does not exist yet.
 */
import type { AccountStore, Owner, User } from '@gitfleet/accounts';
import type { Repository, RepositoryRegistry } from '@gitfleet/repository';
import { CreationRefused, OwnerNotFound } from './errors.js';
import { ownerName } from './owners.js';

export interface RepositoryCreation {
  /** A user or organisation, in any case: the repository is filed under the name as stored. */
  owner: string;
  name: string;
  /** HEAD names refs/heads/<defaultBranch>; the registry's defaults apply to what is absent ("main", public, no description). */
  defaultBranch?: string;
  private?: boolean;
  description?: string;
  /**
   * Who creates it, when it must be checked: themselves, an organisation they belong to, or
   * anyone for a site administrator. Absent for the operator (the CLI, a site administrator's
   * POST /repos), who may create under any owner.
   */
  creator?: User;
}

/**
 * The owner a repository may be created under; OwnerNotFound (also for a name no account
 * could have) or CreationRefused otherwise. The owner is checked before the repository's name,
 * so that a form naming no owner says so first.
 */
export async function creationOwner(accounts: AccountStore, owner: string, creator: User | undefined): Promise<Owner> {
  const found = await accounts.getOwner(owner);
  if (!found) throw new OwnerNotFound(owner);
  if (creator && !(await accounts.mayCreateUnder(creator, ownerName(found)))) throw new CreationRefused(creator.name, ownerName(found));
  return found;
}

/**
 * Creates an empty repository. Throws OwnerNotFound, CreationRefused, InvalidRepositoryName
 * and RepositoryExists, in that order of checking.
 */
export async function createRepository(
  stores: { accounts: AccountStore; registry: RepositoryRegistry },
  creation: RepositoryCreation,
): Promise<Repository> {
  const owner = await creationOwner(stores.accounts, creation.owner, creation.creator);
  return stores.registry.create(ownerName(owner), creation.name, {
    defaultBranch: creation.defaultBranch,
    private: creation.private,
    description: creation.description,
  });
}
