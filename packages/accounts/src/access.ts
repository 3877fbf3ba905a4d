/** What someone may do with a repository. Runs on every git request: at most two KV round trips. */
import { ACCOUNTS_SCOPE, keySuffix, keys, lower } from './keys.js';
import type { AccountsContext } from './context.js';
import { highest } from './access-levels.js';
import { isWellFormedName, isWellFormedRepositoryId } from './names.js';
import { parseTeam } from './records.js';
import type { AccessLevel, Permission, RepositoryRef, User } from './types.js';

/**
 * Site admin → admin; the owning user → admin; owners of the owning organisation → admin;
 * otherwise the highest of its teams' permission (teams of the owning organisation covering
 * this repository or all of its repositories), a collaborator grant, 'read' for members of the
 * owning organisation, 'read' when public.
 */
export async function repositoryAccess(ctx: AccountsContext, user: User | undefined, repo: RepositoryRef): Promise<AccessLevel> {
  const publicLevel: AccessLevel = repo.private ? 'none' : 'read';
  if (user === undefined) return publicLevel;
  if (user.isAdmin || lower(user.name) === lower(repo.owner)) return 'admin';
  if (!isWellFormedName(repo.owner) || !isWellFormedName(user.name) || !isWellFormedRepositoryId(repo.id)) return publicLevel;

  const memberKey = keys.orgMember(repo.owner, user.name);
  const collaboratorKey = keys.collaborator(repo.id, user.name);
  const [direct, teamMemberships] = await Promise.all([
    ctx.kv.getMany(ACCOUNTS_SCOPE, [memberKey, collaboratorKey]),
    ctx.kv.scan(ACCOUNTS_SCOPE, keys.userTeams(user.name)),
  ]);
  const role = direct.get(memberKey);
  if (role === 'owner') return 'admin';
  const level = highest(
    publicLevel,
    role === undefined ? 'none' : 'read',
    (direct.get(collaboratorKey) as Permission | undefined) ?? 'none',
  );

  const teamIds = teamMemberships
    .filter(({ value: org }) => org === lower(repo.owner))
    .map(({ key }) => keySuffix(key, keys.userTeams(user.name)));
  if (teamIds.length === 0 || level === 'admin') return level;
  const teams = await ctx.kv.getMany(
    ACCOUNTS_SCOPE,
    teamIds.flatMap((teamId) => [keys.team(teamId), keys.teamRepository(teamId, repo.id)]),
  );
  const teamLevels = teamIds.map((teamId): AccessLevel => {
    const value = teams.get(keys.team(teamId));
    if (value === undefined) return 'none';
    const team = parseTeam(keys.team(teamId), value);
    return team.includesAllRepositories || teams.has(keys.teamRepository(teamId, repo.id)) ? team.permission : 'none';
  });
  return highest(level, ...teamLevels);
}

/** Whether the user may create repositories under `owner`: itself, a site admin, or a member of that organisation. */
export async function mayCreateUnder(ctx: AccountsContext, user: User, owner: string): Promise<boolean> {
  if (lower(user.name) === lower(owner) || user.isAdmin) return true;
  if (!isWellFormedName(owner) || !isWellFormedName(user.name)) return false;
  return (await ctx.kv.get(ACCOUNTS_SCOPE, keys.orgMember(owner, user.name))) !== undefined;
}

/** Whether the user may administer the organisation (owner role or site admin). */
export async function mayAdministerOrganization(ctx: AccountsContext, user: User, org: string): Promise<boolean> {
  if (user.isAdmin) return true;
  if (!isWellFormedName(org) || !isWellFormedName(user.name)) return false;
  return (await ctx.kv.get(ACCOUNTS_SCOPE, keys.orgMember(org, user.name))) === 'owner';
}

/**
 * Whether the user may see who belongs to the organisation and its teams: its members and site
 * administrators (the API's and the web's one rule).
 */
export async function maySeeOrganizationMembers(ctx: AccountsContext, user: User | undefined, org: string): Promise<boolean> {
  if (!user) return false;
  if (user.isAdmin) return true;
  if (!isWellFormedName(org) || !isWellFormedName(user.name)) return false;
  return (await ctx.kv.get(ACCOUNTS_SCOPE, keys.orgMember(org, user.name))) !== undefined;
}
