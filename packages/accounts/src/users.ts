/** Users: the records, the shared owner namespace, passwords, and deleting everything naming a user. */
import { ACCOUNTS_SCOPE, keySuffix, keys, lower } from './keys.js';
import type { AccountsContext } from './context.js';
import { isWellFormedName, validateEmail, validateOwnerName, validatePassword, validateText } from './names.js';
import { parseOrganization, parseStoredUser, publicUser, type StoredUser } from './records.js';
import { loadUser } from './loaders.js';
import { nextId, transact, type Transaction } from './transaction.js';
import { AccountConflict, InvalidAccountInput, type Owner, type User } from './types.js';

export const MAX_FULL_NAME_LENGTH = 255;

/** Throws AccountConflict when a user or organisation already has the name (read inside `tx`). */
export async function claimOwnerName(tx: Transaction, name: string, kind: 'user' | 'org'): Promise<void> {
  const taken = await tx.get(keys.owner(name));
  if (taken !== undefined) {
    throw new AccountConflict(`the name ${name} is already taken by ${taken === 'org' ? 'an organization' : 'a user'}`);
  }
  tx.create(keys.owner(name), kind);
}

function validateIsAdmin(value: unknown): boolean {
  if (typeof value !== 'boolean') throw new InvalidAccountInput(`invalid isAdmin ${JSON.stringify(value)}: must be true or false`);
  return value;
}

export async function createUser(
  ctx: AccountsContext,
  input: { name: string; email: string; password: string; fullName?: string; isAdmin?: boolean },
): Promise<User> {
  const name = validateOwnerName('user', input.name);
  const email = validateEmail(input.email);
  const password = validatePassword(input.password);
  const fullName = validateText('full name', input.fullName ?? '', MAX_FULL_NAME_LENGTH);
  const isAdmin = validateIsAdmin(input.isAdmin ?? false);
  const passwordHash = await ctx.passwords.hash(password);
  return transact(ctx.kv, `creating user ${name}`, async (tx) => {
    await tx.getMany([keys.owner(name), keys.sequence('owner')]);
    await claimOwnerName(tx, name, 'user');
    const user: StoredUser = {
      id: await nextId(tx, keys.sequence('owner')),
      name,
      email,
      fullName,
      isAdmin,
      createdAt: ctx.now().toISOString(),
      passwordHash,
    };
    tx.create(keys.user(name), JSON.stringify(user));
    return publicUser(user);
  });
}

export async function getStoredUser(ctx: AccountsContext, name: string): Promise<StoredUser | undefined> {
  if (!isWellFormedName(name)) return undefined;
  const value = await ctx.kv.get(ACCOUNTS_SCOPE, keys.user(name));
  return value === undefined ? undefined : parseStoredUser(keys.user(name), value);
}

export async function getUser(ctx: AccountsContext, name: string): Promise<User | undefined> {
  const stored = await getStoredUser(ctx, name);
  return stored && publicUser(stored);
}

/** Users by lower-cased name (those missing are left out), in one round trip. */
export async function getUsers(ctx: AccountsContext, lowerNames: readonly string[]): Promise<Map<string, User>> {
  const found = await ctx.kv.getMany(
    ACCOUNTS_SCOPE,
    lowerNames.map((name) => keys.user(name)),
  );
  const users = new Map<string, User>();
  for (const name of lowerNames) {
    const value = found.get(keys.user(name));
    if (value !== undefined) users.set(name, publicUser(parseStoredUser(keys.user(name), value)));
  }
  return users;
}

/** Every user, ordered by lower-cased name. */
export async function listUsers(ctx: AccountsContext): Promise<User[]> {
  const entries = await ctx.kv.scan(ACCOUNTS_SCOPE, keys.userPrefix);
  return entries.map(({ key, value }) => publicUser(parseStoredUser(key, value)));
}

/** A new password ends every session of the user (endSessions). */
export async function updateUser(
  ctx: AccountsContext,
  name: string,
  patch: { email?: string; fullName?: string; isAdmin?: boolean; password?: string },
): Promise<User> {
  const email = patch.email === undefined ? undefined : validateEmail(patch.email);
  const fullName = patch.fullName === undefined ? undefined : validateText('full name', patch.fullName, MAX_FULL_NAME_LENGTH);
  const isAdmin = patch.isAdmin === undefined ? undefined : validateIsAdmin(patch.isAdmin);
  const passwordHash = patch.password === undefined ? undefined : await ctx.passwords.hash(validatePassword(patch.password));
  return transact(ctx.kv, `updating user ${name}`, async (tx) => {
    const stored = await loadUser(tx, name);
    const updated: StoredUser = {
      ...stored,
      email: email ?? stored.email,
      fullName: fullName ?? stored.fullName,
      isAdmin: isAdmin ?? stored.isAdmin,
      passwordHash: passwordHash ?? stored.passwordHash,
    };
    tx.set(keys.user(name), JSON.stringify(updated));
    if (passwordHash !== undefined) await endSessions(tx, stored.name);
    return publicUser(updated);
  });
}

/**
 * Signs the user out everywhere (a new password must lock out whoever knew the old one). Its
 * tokens stay, as on GitHub and Gitea: each was made for a purpose, with its own scopes and
 * expiry, and is revoked on its own. A session created meanwhile bumps the user's revision,
 * which this transaction then expects unchanged: it retries and ends that one too.
 */
async function endSessions(tx: Transaction, user: string): Promise<void> {
  await tx.get(keys.userRevision(user));
  tx.guard(keys.userRevision(user));
  const sessions = await tx.scan(keys.userSessions(user));
  const hashes = sessions.map(({ key }) => keySuffix(key, keys.userSessions(user)));
  await tx.getMany(hashes.map((hash) => keys.session(hash)));
  for (const { key } of sessions) tx.delete(key);
  for (const hash of hashes) tx.delete(keys.session(hash));
}

/**
 * Deletes the user with its tokens, sessions, organisation and team memberships and
 * collaborator grants, in one atomic step. Refused while the user is the last owner of an
 * organisation (the organisation would be left without anyone able to administer it).
 */
export async function deleteUser(ctx: AccountsContext, name: string): Promise<void> {
  await transact(ctx.kv, `deleting user ${name}`, async (tx) => {
    await loadUser(tx, name);
    await tx.get(keys.userRevision(name));
    const [orgs, teams, collaborations, tokens, tokenNames, sessions] = await Promise.all([
      tx.scan(keys.userOrgs(name)),
      tx.scan(keys.userTeams(name)),
      tx.scan(keys.userCollaborations(name)),
      tx.scan(keys.userTokens(name)),
      tx.scan(keys.tokenNames(name)),
      tx.scan(keys.userSessions(name)),
    ]);
    const orgNames = orgs.map(({ key }) => keySuffix(key, keys.userOrgs(name)));
    const teamIds = teams.map(({ key }) => keySuffix(key, keys.userTeams(name)));
    const repositoryIds = collaborations.map(({ key }) => keySuffix(key, keys.userCollaborations(name)));
    const sessionHashes = sessions.map(({ key }) => keySuffix(key, keys.userSessions(name)));
    const partnerKeys = [
      ...orgNames.flatMap((org) => [keys.orgMember(org, name), keys.orgRevision(org)]),
      ...teamIds.map((teamId) => keys.teamMember(teamId, name)),
      ...repositoryIds.map((repositoryId) => keys.collaborator(repositoryId, name)),
      ...tokens.map(({ value }) => keys.token(value)),
      ...sessionHashes.map((hash) => keys.session(hash)),
    ];
    await tx.getMany(partnerKeys);

    for (const { key, value: role } of orgs) {
      const org = keySuffix(key, keys.userOrgs(name));
      if (role === 'owner') await refuseLosingLastOwner(tx, org, name, `delete user ${name}`);
      // Serialises with other membership changes of the organisation (the last-owner rule).
      await tx.bump(keys.orgRevision(org));
      tx.delete(key);
      tx.delete(keys.orgMember(org, name));
    }
    for (const { key } of teams) tx.delete(key);
    for (const teamId of teamIds) tx.delete(keys.teamMember(teamId, name));
    for (const { key } of collaborations) tx.delete(key);
    for (const repositoryId of repositoryIds) tx.delete(keys.collaborator(repositoryId, name));
    for (const { key, value: hash } of tokens) {
      tx.delete(key);
      tx.delete(keys.token(hash));
    }
    for (const { key } of tokenNames) tx.delete(key);
    for (const { key } of sessions) tx.delete(key);
    for (const hash of sessionHashes) tx.delete(keys.session(hash));
    tx.delete(keys.userRevision(name));
    tx.delete(keys.user(name));
    await tx.get(keys.owner(name));
    tx.delete(keys.owner(name));
  });
}

/** AccountConflict when `user` is the only owner of `org` (read inside `tx`, so the commit expects it). */
export async function refuseLosingLastOwner(tx: Transaction, org: string, user: string, action: string): Promise<void> {
  const members = await tx.scan(keys.orgMembers(org));
  const owners = members.filter(({ value }) => value === 'owner').map(({ key }) => keySuffix(key, keys.orgMembers(org)));
  if (owners.length === 1 && owners[0] === lower(user)) {
    throw new AccountConflict(`cannot ${action}: ${user} is the last owner of organization ${org}`);
  }
  // Later owners joining or leaving change these keys; the commit must see them as read.
  for (const { key, value } of members) if (value === 'owner') tx.guard(key);
}

export async function verifyPassword(ctx: AccountsContext, name: string, password: string): Promise<User | undefined> {
  const stored = typeof password === 'string' ? await getStoredUser(ctx, name) : undefined;
  const matches = await ctx.passwords.verify(stored?.passwordHash, typeof password === 'string' ? password : '');
  return matches && stored ? publicUser(stored) : undefined;
}

export async function getOwner(ctx: AccountsContext, name: string): Promise<Owner | undefined> {
  if (!isWellFormedName(name)) return undefined;
  const found = await ctx.kv.getMany(ACCOUNTS_SCOPE, [keys.user(name), keys.org(name)]);
  const user = found.get(keys.user(name));
  if (user !== undefined) return { kind: 'user', user: publicUser(parseStoredUser(keys.user(name), user)) };
  const org = found.get(keys.org(name));
  if (org !== undefined) return { kind: 'org', org: parseOrganization(keys.org(name), org) };
  return undefined;
}
