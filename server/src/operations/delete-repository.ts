import type { AccountStore } from '@gitfleet/accounts';
import { HookStore, StatusStore, repositoryTarget } from '@gitfleet/events';
import type { RepositoryInfo, RepositoryRegistry } from '@gitfleet/repository';
import type { KVStore } from '@gitfleet/storage';

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
