/** The repositories a team's permission applies to, for the REST API and the team's web page. */
import type { AccountStore, Team } from '@gitfleet/accounts';
import type { RepositoryInfo, RepositoryRegistry } from '@gitfleet/repository';

/** Every repository of the team's organisation when the team covers them all, else those given to it. */
export async function teamRepositories(
  { accounts, registry }: { accounts: AccountStore; registry: RepositoryRegistry },
  team: Team,
): Promise<RepositoryInfo[]> {
  const orgRepositories = await registry.listOwnedBy(team.org);
  if (team.includesAllRepositories) return orgRepositories;
  const wanted = new Set(await accounts.listTeamRepositories(team.org, team.name));
  return orgRepositories.filter((info) => wanted.has(info.id));
}
