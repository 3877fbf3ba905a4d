/**
 * Owners of repositories: users and organisations share one namespace. Their names as stored,
 * and their deletion with everything keyed by their account id.
 */
import type { AccountStore, Organization, Owner, User } from '@gitfleet/accounts';
import { HookStore } from '@gitfleet/events';
import type { RepositoryRegistry } from '@gitfleet/repository';
import type { KVStore } from '@gitfleet/storage';
import { OwnerHasRepositories, OwnerNotFound } from './errors.js';

/** The owner's name as it was created (lookups ignore case; stored names keep the spelling). */
export function ownerName(owner: Owner): string {
  return owner.kind === 'user' ? owner.user.name : owner.org.name;
}

/** The name a page shows for an owner: its full name when it has one. */
export function ownerDisplayName(owner: Owner): string {
  const account = owner.kind === 'user' ? owner.user : owner.org;
  return account.fullName || account.name;
}

/** The user or organisation named `name` (any case); OwnerNotFound when there is none. */
export async function existingOwner(accounts: AccountStore, name: string): Promise<Owner> {
  const owner = await accounts.getOwner(name);
  if (!owner) throw new OwnerNotFound(name);
  return owner;
}

/** What deleting an account touches. */
export interface OwnerStores {
  accounts: AccountStore;
  registry: RepositoryRegistry;
  kv: KVStore;
}

/**
 * OwnerHasRepositories while `owner` owns a repository: deleting it would leave them without
 * one. Callers that ask for confirmation check this first, so nobody confirms in vain.
 */
export async function refuseWhileOwningRepositories(registry: RepositoryRegistry, owner: Owner): Promise<void> {
  const owned = await registry.listOwnedBy(ownerName(owner));
  if (owned.length > 0) throw new OwnerHasRepositories(owner.kind === 'user' ? 'user' : 'organization', ownerName(owner), owned);
}

/**
 * Deletes an organisation that owns no repository, with everything keyed by its account id:
 * its teams and memberships (the accounts store), its hooks and their delivery logs. A later
 * organisation of the same name gets a new id and starts with none of them.
 */
export async function deleteOrganization(stores: OwnerStores, org: Organization): Promise<void> {
  await refuseWhileOwningRepositories(stores.registry, { kind: 'org', org });
  await stores.accounts.deleteOrganization(org.name);
  await deleteOwnerData(stores.kv, org.id, org.name);
}

/** Deletes a user that owns no repository, with everything keyed by its account id, as deleteOrganization does. */
export async function deleteUser(stores: OwnerStores, user: User): Promise<void> {
  await refuseWhileOwningRepositories(stores.registry, { kind: 'user', user });
  await stores.accounts.deleteUser(user.name);
  await deleteOwnerData(stores.kv, user.id, user.name);
}

// The account goes first: from then on no surface can reach its hooks to add one.
async function deleteOwnerData(kv: KVStore, ownerId: string, owner: string): Promise<void> {
  await new HookStore(kv).deleteAll({ kind: 'organization', ownerId, owner });
}
