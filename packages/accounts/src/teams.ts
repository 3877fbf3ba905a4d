/** Teams of an organisation: a permission over chosen repositories (or all of them) for their members. */
import { ACCOUNTS_SCOPE, keySuffix, keys, lower } from './keys.js';
import type { AccountsContext } from './context.js';
import { loadOrganization, loadUser } from './loaders.js';
import { isWellFormedName, validatePermission, validateRepositoryId, validateTeamName, validateText } from './names.js';
import { parseTeam } from './records.js';
import { nextId, transact, type Transaction } from './transaction.js';
import { AccountConflict, AccountNotFound, InvalidAccountInput, type Permission, type Team, type User } from './types.js';
import { getUsers } from './users.js';

export const MAX_TEAM_DESCRIPTION_LENGTH = 1000;

async function loadTeam(tx: Transaction, orgName: string, teamName: string): Promise<Team> {
  const org = await loadOrganization(tx, orgName);
  const teamId = isWellFormedName(teamName) ? await tx.get(keys.teamName(org.name, teamName)) : undefined;
  const value = teamId === undefined ? undefined : await tx.get(keys.team(teamId));
  if (value === undefined) throw new AccountNotFound(`team ${teamName} of organization ${org.name} not found`);
  return parseTeam(keys.team(teamId!), value);
}

function validateFlag(what: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new InvalidAccountInput(`invalid ${what} ${JSON.stringify(value)}: must be true or false`);
  return value;
}

export async function createTeam(
  ctx: AccountsContext,
  orgName: string,
  input: { name: string; description?: string; permission: Permission; includesAllRepositories?: boolean },
): Promise<Team> {
  const name = validateTeamName(input.name);
  const description = validateText('team description', input.description ?? '', MAX_TEAM_DESCRIPTION_LENGTH);
  const permission = validatePermission(input.permission);
  const includesAllRepositories = validateFlag('includesAllRepositories', input.includesAllRepositories ?? false);
  return transact(ctx.kv, `creating team ${name} in ${orgName}`, async (tx) => {
    if (isWellFormedName(orgName)) {
      await tx.getMany([keys.org(orgName), keys.teamName(orgName, name), keys.sequence('team'), keys.orgRevision(orgName)]);
    }
    const org = await loadOrganization(tx, orgName);
    if ((await tx.get(keys.teamName(org.name, name))) !== undefined) {
      throw new AccountConflict(`organization ${org.name} already has a team named ${name}`);
    }
    const team: Team = {
      id: await nextId(tx, keys.sequence('team')),
      org: org.name,
      name,
      description,
      permission,
      includesAllRepositories,
      createdAt: ctx.now().toISOString(),
    };
    tx.guard(keys.org(org.name));
    tx.create(keys.team(team.id), JSON.stringify(team));
    tx.create(keys.teamName(org.name, name), team.id);
    await tx.bump(keys.orgRevision(org.name));
    return team;
  });
}

export async function getTeam(ctx: AccountsContext, orgName: string, teamName: string): Promise<Team | undefined> {
  if (!isWellFormedName(orgName) || !isWellFormedName(teamName)) return undefined;
  const teamId = await ctx.kv.get(ACCOUNTS_SCOPE, keys.teamName(orgName, teamName));
  const value = teamId === undefined ? undefined : await ctx.kv.get(ACCOUNTS_SCOPE, keys.team(teamId));
  return value === undefined ? undefined : parseTeam(keys.team(teamId!), value);
}

/** The organisation's teams, ordered by lower-cased name. */
export async function listTeams(ctx: AccountsContext, orgName: string): Promise<Team[]> {
  const [org, names] = isWellFormedName(orgName)
    ? await Promise.all([ctx.kv.get(ACCOUNTS_SCOPE, keys.org(orgName)), ctx.kv.scan(ACCOUNTS_SCOPE, keys.teamNames(orgName))])
    : [undefined, []];
  if (org === undefined) throw new AccountNotFound(`organization ${orgName} not found`);
  const teamKeys = names.map(({ value: teamId }) => keys.team(teamId));
  const teams = await ctx.kv.getMany(ACCOUNTS_SCOPE, teamKeys);
  return teamKeys.flatMap((key) => {
    const value = teams.get(key);
    return value === undefined ? [] : [parseTeam(key, value)];
  });
}

export async function updateTeam(
  ctx: AccountsContext,
  orgName: string,
  teamName: string,
  patch: { name?: string; description?: string; permission?: Permission; includesAllRepositories?: boolean },
): Promise<Team> {
  const name = patch.name === undefined ? undefined : validateTeamName(patch.name);
  const description =
    patch.description === undefined ? undefined : validateText('team description', patch.description, MAX_TEAM_DESCRIPTION_LENGTH);
  const permission = patch.permission === undefined ? undefined : validatePermission(patch.permission);
  const includesAll =
    patch.includesAllRepositories === undefined ? undefined : validateFlag('includesAllRepositories', patch.includesAllRepositories);
  return transact(ctx.kv, `updating team ${teamName} of ${orgName}`, async (tx) => {
    const team = await loadTeam(tx, orgName, teamName);
    const updated: Team = {
      ...team,
      name: name ?? team.name,
      description: description ?? team.description,
      permission: permission ?? team.permission,
      includesAllRepositories: includesAll ?? team.includesAllRepositories,
    };
    if (lower(updated.name) !== lower(team.name)) {
      if ((await tx.get(keys.teamName(team.org, updated.name))) !== undefined) {
        throw new AccountConflict(`organization ${team.org} already has a team named ${updated.name}`);
      }
      tx.delete(keys.teamName(team.org, team.name));
      tx.create(keys.teamName(team.org, updated.name), team.id);
    }
    tx.set(keys.team(team.id), JSON.stringify(updated));
    return updated;
  });
}

export async function deleteTeam(ctx: AccountsContext, orgName: string, teamName: string): Promise<void> {
  await transact(ctx.kv, `deleting team ${teamName} of ${orgName}`, async (tx) => {
    const team = await loadTeam(tx, orgName, teamName);
    await stageTeamDeletion(tx, team.org, team.id);
  });
}

/** Stages deleting the team with its memberships and repository grants, both ways. */
export async function stageTeamDeletion(tx: Transaction, org: string, teamId: string): Promise<void> {
  const value = await tx.get(keys.team(teamId));
  await tx.get(keys.teamRevision(teamId));
  const [members, repositories] = await Promise.all([tx.scan(keys.teamMembers(teamId)), tx.scan(keys.teamRepositories(teamId))]);
  const memberNames = members.map(({ key }) => keySuffix(key, keys.teamMembers(teamId)));
  const repositoryIds = repositories.map(({ key }) => keySuffix(key, keys.teamRepositories(teamId)));
  const teamNameKey = value === undefined ? undefined : keys.teamName(org, parseTeam(keys.team(teamId), value).name);
  await tx.getMany([
    ...memberNames.map((user) => keys.userTeam(user, teamId)),
    ...repositoryIds.map((repositoryId) => keys.repositoryTeam(repositoryId, teamId)),
    ...(teamNameKey ? [teamNameKey] : []),
  ]);
  for (const { key } of [...members, ...repositories]) tx.delete(key);
  for (const user of memberNames) tx.delete(keys.userTeam(user, teamId));
  for (const repositoryId of repositoryIds) tx.delete(keys.repositoryTeam(repositoryId, teamId));
  if (teamNameKey) tx.delete(teamNameKey);
  tx.delete(keys.team(teamId));
  tx.delete(keys.teamRevision(teamId));
}

/** Adds the user to the team, making it a member of the organisation first when it is not one. */
export async function addTeamMember(ctx: AccountsContext, orgName: string, teamName: string, userName: string): Promise<void> {
  await transact(ctx.kv, `adding ${userName} to team ${teamName} of ${orgName}`, async (tx) => {
    const team = await loadTeam(tx, orgName, teamName);
    const user = await loadUser(tx, userName);
    const memberKey = keys.teamMember(team.id, user.name);
    await tx.getMany([
      memberKey,
      keys.userTeam(user.name, team.id),
      keys.orgMember(team.org, user.name),
      keys.userOrg(user.name, team.org),
      keys.teamRevision(team.id),
      keys.userRevision(user.name),
      keys.orgRevision(team.org),
    ]);
    if ((await tx.get(keys.orgMember(team.org, user.name))) === undefined) {
      tx.create(keys.orgMember(team.org, user.name), 'member');
      tx.create(keys.userOrg(user.name, team.org), 'member');
      await tx.bump(keys.orgRevision(team.org));
    }
    if ((await tx.get(memberKey)) !== undefined) return;
    tx.guard(keys.team(team.id));
    tx.guard(keys.user(user.name));
    tx.create(memberKey, '1');
    tx.create(keys.userTeam(user.name, team.id), lower(team.org));
    await tx.bump(keys.teamRevision(team.id));
    await tx.bump(keys.userRevision(user.name));
  });
}

/** Nothing to do when the user is not in the team. */
export async function removeTeamMember(ctx: AccountsContext, orgName: string, teamName: string, userName: string): Promise<void> {
  await transact(ctx.kv, `removing ${userName} from team ${teamName} of ${orgName}`, async (tx) => {
    const team = await loadTeam(tx, orgName, teamName);
    const user = await loadUser(tx, userName);
    const [memberKey, reverseKey] = [keys.teamMember(team.id, user.name), keys.userTeam(user.name, team.id)];
    const found = await tx.getMany([memberKey, reverseKey]);
    if (found.size === 0) return;
    tx.delete(memberKey);
    tx.delete(reverseKey);
  });
}

export async function listTeamMembers(ctx: AccountsContext, orgName: string, teamName: string): Promise<User[]> {
  const team = await getTeam(ctx, orgName, teamName);
  if (team === undefined) throw new AccountNotFound(`team ${teamName} of organization ${orgName} not found`);
  const members = await ctx.kv.scan(ACCOUNTS_SCOPE, keys.teamMembers(team.id));
  const names = members.map(({ key }) => keySuffix(key, keys.teamMembers(team.id)));
  const users = await getUsers(ctx, names);
  return names.flatMap((name) => users.get(name) ?? []);
}

export async function addTeamRepository(ctx: AccountsContext, orgName: string, teamName: string, repositoryId: string): Promise<void> {
  validateRepositoryId(repositoryId);
  await transact(ctx.kv, `granting team ${teamName} of ${orgName} repository ${repositoryId}`, async (tx) => {
    const team = await loadTeam(tx, orgName, teamName);
    const [grantKey, reverseKey] = [keys.teamRepository(team.id, repositoryId), keys.repositoryTeam(repositoryId, team.id)];
    const found = await tx.getMany([grantKey, reverseKey, keys.teamRevision(team.id)]);
    if (found.has(grantKey) && found.has(reverseKey)) return;
    tx.guard(keys.team(team.id));
    tx.set(grantKey, '1');
    tx.set(reverseKey, '1');
    await tx.bump(keys.teamRevision(team.id));
  });
}

/** Nothing to do when the team has no grant on the repository. */
export async function removeTeamRepository(ctx: AccountsContext, orgName: string, teamName: string, repositoryId: string): Promise<void> {
  validateRepositoryId(repositoryId);
  await transact(ctx.kv, `revoking team ${teamName} of ${orgName} repository ${repositoryId}`, async (tx) => {
    const team = await loadTeam(tx, orgName, teamName);
    const [grantKey, reverseKey] = [keys.teamRepository(team.id, repositoryId), keys.repositoryTeam(repositoryId, team.id)];
    const found = await tx.getMany([grantKey, reverseKey]);
    if (found.size === 0) return;
    tx.delete(grantKey);
    tx.delete(reverseKey);
  });
}

/**
 * Revokes every team's grant on the repository, leaving its collaborators: when it moves to
 * another owner, the teams that named it belong to an organisation that no longer owns it.
 */
export async function forgetRepositoryTeams(ctx: AccountsContext, repositoryId: string): Promise<void> {
  validateRepositoryId(repositoryId);
  await transact(ctx.kv, `revoking every team's grant on repository ${repositoryId}`, (tx) =>
    stageRepositoryTeamsRemoval(tx, repositoryId),
  );
}

/** Stages deleting every team grant naming the repository, both ways. */
export async function stageRepositoryTeamsRemoval(tx: Transaction, repositoryId: string): Promise<void> {
  const grants = await tx.scan(keys.repositoryTeams(repositoryId));
  const teamIds = grants.map(({ key }) => keySuffix(key, keys.repositoryTeams(repositoryId)));
  await tx.getMany(teamIds.map((teamId) => keys.teamRepository(teamId, repositoryId)));
  for (const { key } of grants) tx.delete(key);
  for (const teamId of teamIds) tx.delete(keys.teamRepository(teamId, repositoryId));
}

export async function listTeamRepositories(ctx: AccountsContext, orgName: string, teamName: string): Promise<string[]> {
  const team = await getTeam(ctx, orgName, teamName);
  if (team === undefined) throw new AccountNotFound(`team ${teamName} of organization ${orgName} not found`);
  const grants = await ctx.kv.scan(ACCOUNTS_SCOPE, keys.teamRepositories(team.id));
  return grants.map(({ key }) => keySuffix(key, keys.teamRepositories(team.id)));
}
