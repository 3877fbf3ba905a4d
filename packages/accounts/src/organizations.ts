/** Organisations and their members (owner or member); the last owner always stays. */
import { ACCOUNTS_SCOPE, keySuffix, keys, lower } from './keys.js';
import type { AccountsContext } from './context.js';
import { isWellFormedName, validateOwnerName, validateText } from './names.js';
import { loadOrganization, loadUser } from './loaders.js';
import { parseOrganization } from './records.js';
import { nextId, transact, type Transaction } from './transaction.js';
import { AccountNotFound, InvalidAccountInput, type OrgRole, type Organization, type User } from './types.js';
import { claimOwnerName, getUsers, refuseLosingLastOwner, MAX_FULL_NAME_LENGTH } from './users.js';
import { stageTeamDeletion } from './teams.js';

export const MAX_DESCRIPTION_LENGTH = 1000;

function validateRole(value: unknown): OrgRole {
  if (value !== 'owner' && value !== 'member') {
    throw new InvalidAccountInput(`invalid organization role ${JSON.stringify(value)}: must be owner or member`);
  }
  return value;
}

export async function createOrganization(
  ctx: AccountsContext,
  input: { name: string; creator: string; fullName?: string; description?: string },
): Promise<Organization> {
  const name = validateOwnerName('organization', input.name);
  const fullName = validateText('full name', input.fullName ?? '', MAX_FULL_NAME_LENGTH);
  const description = validateText('description', input.description ?? '', MAX_DESCRIPTION_LENGTH);
  return transact(ctx.kv, `creating organization ${name}`, async (tx) => {
    if (isWellFormedName(input.creator)) {
      await tx.getMany([keys.owner(name), keys.sequence('owner'), keys.user(input.creator), keys.userRevision(input.creator)]);
    }
    const creator = await loadUser(tx, input.creator);
    tx.guard(keys.user(creator.name));
    await claimOwnerName(tx, name, 'org');
    const org: Organization = {
      id: await nextId(tx, keys.sequence('owner')),
      name,
      fullName,
      description,
      createdAt: ctx.now().toISOString(),
    };
    tx.create(keys.org(name), JSON.stringify(org));
    tx.create(keys.orgMember(name, creator.name), 'owner');
    tx.create(keys.userOrg(creator.name, name), 'owner');
    await tx.bump(keys.userRevision(creator.name));
    return org;
  });
}

export async function getOrganization(ctx: AccountsContext, name: string): Promise<Organization | undefined> {
  if (!isWellFormedName(name)) return undefined;
  const value = await ctx.kv.get(ACCOUNTS_SCOPE, keys.org(name));
  return value === undefined ? undefined : parseOrganization(keys.org(name), value);
}

/** Every organisation, ordered by lower-cased name. */
export async function listOrganizations(ctx: AccountsContext): Promise<Organization[]> {
  const entries = await ctx.kv.scan(ACCOUNTS_SCOPE, keys.orgPrefix);
  return entries.map(({ key, value }) => parseOrganization(key, value));
}

export async function updateOrganization(
  ctx: AccountsContext,
  name: string,
  patch: { fullName?: string; description?: string },
): Promise<Organization> {
  const fullName = patch.fullName === undefined ? undefined : validateText('full name', patch.fullName, MAX_FULL_NAME_LENGTH);
  const description = patch.description === undefined ? undefined : validateText('description', patch.description, MAX_DESCRIPTION_LENGTH);
  return transact(ctx.kv, `updating organization ${name}`, async (tx) => {
    const org = await loadOrganization(tx, name);
    const updated: Organization = { ...org, fullName: fullName ?? org.fullName, description: description ?? org.description };
    tx.set(keys.org(name), JSON.stringify(updated));
    return updated;
  });
}

/** Deletes the organisation with its memberships and teams (its repositories are the caller's business). */
export async function deleteOrganization(ctx: AccountsContext, name: string): Promise<void> {
  await transact(ctx.kv, `deleting organization ${name}`, async (tx) => {
    await loadOrganization(tx, name);
    await tx.get(keys.orgRevision(name));
    const [members, teamNames] = await Promise.all([tx.scan(keys.orgMembers(name)), tx.scan(keys.teamNames(name))]);
    await Promise.all(teamNames.map(({ value: teamId }) => stageTeamDeletion(tx, name, teamId)));
    const memberNames = members.map(({ key }) => keySuffix(key, keys.orgMembers(name)));
    await tx.getMany(memberNames.map((user) => keys.userOrg(user, name)));
    for (const { key } of members) tx.delete(key);
    for (const user of memberNames) tx.delete(keys.userOrg(user, name));
    tx.delete(keys.orgRevision(name));
    tx.delete(keys.org(name));
    await tx.get(keys.owner(name));
    tx.delete(keys.owner(name));
  });
}

/** Adds the user to the organisation or changes its role; demoting the last owner is refused. */
export async function setMember(ctx: AccountsContext, orgName: string, userName: string, role: OrgRole): Promise<void> {
  validateRole(role);
  await transact(ctx.kv, `setting ${userName}'s role in ${orgName}`, async (tx) => {
    if (isWellFormedName(orgName) && isWellFormedName(userName)) {
      await tx.getMany([
        keys.org(orgName),
        keys.user(userName),
        keys.orgMember(orgName, userName),
        keys.userOrg(userName, orgName),
        keys.orgRevision(orgName),
        keys.userRevision(userName),
      ]);
    }
    const org = await loadOrganization(tx, orgName);
    const user = await loadUser(tx, userName);
    const current = await tx.get(keys.orgMember(org.name, user.name));
    if (current === role) return;
    if (current === 'owner') await refuseLosingLastOwner(tx, org.name, user.name, `make ${user.name} a plain member`);
    tx.guard(keys.org(org.name));
    tx.guard(keys.user(user.name));
    tx.set(keys.orgMember(org.name, user.name), role);
    tx.set(keys.userOrg(user.name, org.name), role);
    await tx.bump(keys.orgRevision(org.name));
    await tx.bump(keys.userRevision(user.name));
  });
}

/** Removes the user from the organisation and its teams (nothing to do when not a member); the last owner stays. */
export async function removeMember(ctx: AccountsContext, orgName: string, userName: string): Promise<void> {
  await transact(ctx.kv, `removing ${userName} from ${orgName}`, async (tx) => {
    if (isWellFormedName(orgName) && isWellFormedName(userName)) {
      await tx.getMany([
        keys.org(orgName),
        keys.user(userName),
        keys.orgMember(orgName, userName),
        keys.userOrg(userName, orgName),
        keys.orgRevision(orgName),
      ]);
    }
    const org = await loadOrganization(tx, orgName);
    const user = await loadUser(tx, userName);
    const role = await tx.get(keys.orgMember(org.name, user.name));
    if (role === undefined) return;
    if (role === 'owner') await refuseLosingLastOwner(tx, org.name, user.name, `remove ${user.name}`);
    await stageLeavingTeams(tx, org.name, user.name);
    tx.delete(keys.orgMember(org.name, user.name));
    await tx.get(keys.userOrg(user.name, org.name));
    tx.delete(keys.userOrg(user.name, org.name));
    await tx.bump(keys.orgRevision(org.name));
  });
}

/** Stages removing the user from every team of the organisation. */
async function stageLeavingTeams(tx: Transaction, org: string, user: string): Promise<void> {
  const memberships = (await tx.scan(keys.userTeams(user))).filter(({ value }) => value === lower(org));
  const teamIds = memberships.map(({ key }) => keySuffix(key, keys.userTeams(user)));
  await tx.getMany(teamIds.map((teamId) => keys.teamMember(teamId, user)));
  for (const { key } of memberships) tx.delete(key);
  for (const teamId of teamIds) tx.delete(keys.teamMember(teamId, user));
}

export async function listMembers(ctx: AccountsContext, orgName: string): Promise<Array<{ user: User; role: OrgRole }>> {
  const [org, members] = isWellFormedName(orgName)
    ? await Promise.all([getOrganization(ctx, orgName), ctx.kv.scan(ACCOUNTS_SCOPE, keys.orgMembers(orgName))])
    : [undefined, []];
  if (org === undefined) throw new AccountNotFound(`organization ${orgName} not found`);
  const users = await getUsers(
    ctx,
    members.map(({ key }) => keySuffix(key, keys.orgMembers(orgName))),
  );
  return members.flatMap(({ key, value }) => {
    const user = users.get(keySuffix(key, keys.orgMembers(orgName)));
    return user ? [{ user, role: value as OrgRole }] : [];
  });
}

export async function memberRole(ctx: AccountsContext, orgName: string, userName: string): Promise<OrgRole | undefined> {
  if (!isWellFormedName(orgName) || !isWellFormedName(userName)) return undefined;
  return (await ctx.kv.get(ACCOUNTS_SCOPE, keys.orgMember(orgName, userName))) as OrgRole | undefined;
}

export async function listUserOrganizations(ctx: AccountsContext, userName: string): Promise<Array<{ org: Organization; role: OrgRole }>> {
  const [user, memberships] = isWellFormedName(userName)
    ? await Promise.all([ctx.kv.get(ACCOUNTS_SCOPE, keys.user(userName)), ctx.kv.scan(ACCOUNTS_SCOPE, keys.userOrgs(userName))])
    : [undefined, []];
  if (user === undefined) throw new AccountNotFound(`user ${userName} not found`);
  const orgKeys = memberships.map(({ key }) => keys.org(keySuffix(key, keys.userOrgs(userName))));
  const orgs = await ctx.kv.getMany(ACCOUNTS_SCOPE, orgKeys);
  return memberships.flatMap(({ value }, index) => {
    const org = orgs.get(orgKeys[index]);
    return org === undefined ? [] : [{ org: parseOrganization(orgKeys[index], org), role: value as OrgRole }];
  });
}
