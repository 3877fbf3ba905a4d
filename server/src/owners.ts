import type { AccountStore, Organization, User } from '@gitfleet/accounts';
import { HookStore } from '@gitfleet/events';
import type { KVStore } from '@gitfleet/storage';

/** What deleting an account touches. */
export interface OwnerStores {
  accounts: AccountStore;
  kv: KVStore;
}

/**
 * Deletes an organisation with everything keyed by its account id: its teams and memberships
 * (the accounts store), its hooks and their delivery logs. A later organisation of the same
 * name gets a new id and starts with none of them. Its repositories are the caller's to refuse.
 */
export async function deleteOrganization(stores: OwnerStores, org: Organization): Promise<void> {
  await stores.accounts.deleteOrganization(org.name);
  await deleteOwnerData(stores.kv, org.id, org.name);
}

/** Deletes a user with everything keyed by its account id, as deleteOrganization does. */
export async function deleteUser(stores: OwnerStores, user: User): Promise<void> {
  await stores.accounts.deleteUser(user.name);
  await deleteOwnerData(stores.kv, user.id, user.name);
}

// The account goes first: from then on no surface can reach its hooks to add one.
async function deleteOwnerData(kv: KVStore, ownerId: string, owner: string): Promise<void> {
  await new HookStore(kv).deleteAll({ kind: 'organization', ownerId, owner });
}
