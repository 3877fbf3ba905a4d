/**
 * The repositories a signed-in user works with, as GitHub's GET /user/repos lists them by
 * `affiliation`: their own, their organisations' (a team member is always a member of the
 * team's organisation, so team repositories are among these), and those they collaborate on.
 * The dashboard and the REST API both list them from here.
 */
import type { AccessLevel, AccountStore, User } from '@gitfleet/accounts';
import type { RepositoryInfo, RepositoryRegistry } from '@gitfleet/repository';
import { readableRepositories } from './readable-repositories.js';

export const AFFILIATIONS = ['owner', 'collaborator', 'organization_member'] as const;
export type Affiliation = (typeof AFFILIATIONS)[number];

export interface UserRepositoryStores {
  accounts: AccountStore;
  registry: RepositoryRegistry;
}

/**
 * The repositories of the chosen affiliations that `user` may read, with that access: owned
 * ones first, then the organisations' (each owner's by name), then collaborations by full name.
 * Each repository once; one no longer readable (made private, grant revoked) is left out.
 */
export async function affiliatedRepositories(
  { accounts, registry }: UserRepositoryStores,
  user: User,
  affiliations: ReadonlySet<Affiliation> = new Set(AFFILIATIONS),
): Promise<Array<{ info: RepositoryInfo; access: AccessLevel }>> {
  const owners: string[] = affiliations.has('owner') ? [user.name] : [];
  if (affiliations.has('organization_member')) owners.push(...(await accounts.listUserOrganizations(user.name)).map(({ org }) => org.name));
  const owned = (await Promise.all(owners.map((owner) => registry.listOwnedBy(owner)))).flat();
  const collaborations = affiliations.has('collaborator') ? await collaborationRepositories(accounts, registry, user, owned) : [];
  return readableRepositories(accounts, user, [...owned, ...collaborations]);
}

/** The repositories the user holds a grant on, other than those in `listed`. */
async function collaborationRepositories(
  accounts: AccountStore,
  registry: RepositoryRegistry,
  user: User,
  listed: readonly RepositoryInfo[],
): Promise<RepositoryInfo[]> {
  const listedIds = new Set(listed.map((info) => info.id));
  const wanted = new Set(
    (await accounts.listUserCollaborations(user.name)).map(({ repositoryId }) => repositoryId).filter((id) => !listedIds.has(id)),
  );
  if (wanted.size === 0) return [];
  // Grants name repositories by id and the registry is keyed by owner/name: one scan of the
  // registry (as the explore page does), only for users who collaborate outside their own owners.
  return (await registry.list()).filter((info) => wanted.has(info.id));
}
