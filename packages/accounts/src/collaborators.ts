/** Direct grants of a permission on one repository (by id) to one user. */
import { ACCOUNTS_SCOPE, keySuffix, keys } from './keys.js';
import type { AccountsContext } from './context.js';
import { loadUser } from './loaders.js';
import { isWellFormedName, validatePermission, validateRepositoryId } from './names.js';
import { stageRepositoryTeamsRemoval } from './teams.js';
import { transact } from './transaction.js';
import type { Permission, User } from './types.js';
import { getUsers } from './users.js';

export async function setCollaborator(ctx: AccountsContext, repositoryId: string, userName: string, permission: Permission): Promise<void> {
  validateRepositoryId(repositoryId);
  validatePermission(permission);
  await transact(ctx.kv, `granting ${userName} ${permission} on repository ${repositoryId}`, async (tx) => {
    const user = await loadUser(tx, userName);
    const [grantKey, reverseKey] = [keys.collaborator(repositoryId, user.name), keys.userCollaboration(user.name, repositoryId)];
    const found = await tx.getMany([grantKey, reverseKey, keys.userRevision(user.name)]);
    if (found.get(grantKey) === permission && found.get(reverseKey) === permission) return;
    tx.guard(keys.user(user.name));
    tx.set(grantKey, permission);
    tx.set(reverseKey, permission);
    await tx.bump(keys.userRevision(user.name));
  });
}

/** Nothing to do when the user has no grant on the repository. */
export async function removeCollaborator(ctx: AccountsContext, repositoryId: string, userName: string): Promise<void> {
  validateRepositoryId(repositoryId);
  await transact(ctx.kv, `revoking ${userName}'s grant on repository ${repositoryId}`, async (tx) => {
    const user = await loadUser(tx, userName);
    const [grantKey, reverseKey] = [keys.collaborator(repositoryId, user.name), keys.userCollaboration(user.name, repositoryId)];
    const found = await tx.getMany([grantKey, reverseKey]);
    if (found.size === 0) return;
    tx.delete(grantKey);
    tx.delete(reverseKey);
  });
}

/** The repository's collaborators, ordered by lower-cased name. */
export async function listCollaborators(
  ctx: AccountsContext,
  repositoryId: string,
): Promise<Array<{ user: User; permission: Permission }>> {
  validateRepositoryId(repositoryId);
  const grants = await ctx.kv.scan(ACCOUNTS_SCOPE, keys.collaborators(repositoryId));
  const users = await getUsers(
    ctx,
    grants.map(({ key }) => keySuffix(key, keys.collaborators(repositoryId))),
  );
  return grants.flatMap(({ key, value }) => {
    const user = users.get(keySuffix(key, keys.collaborators(repositoryId)));
    return user ? [{ user, permission: value as Permission }] : [];
  });
}

/** The repositories (by id) on which the user holds a direct grant, ordered by id; none for an unknown user. */
export async function listUserCollaborations(
  ctx: AccountsContext,
  userName: string,
): Promise<Array<{ repositoryId: string; permission: Permission }>> {
  if (!isWellFormedName(userName)) return [];
  const grants = await ctx.kv.scan(ACCOUNTS_SCOPE, keys.userCollaborations(userName));
  return grants.map(({ key, value }) => ({
    repositoryId: keySuffix(key, keys.userCollaborations(userName)),
    permission: value as Permission,
  }));
}

/** Removes every collaborator and team grant naming the repository (when it is deleted). */
export async function forgetRepository(ctx: AccountsContext, repositoryId: string): Promise<void> {
  validateRepositoryId(repositoryId);
  await transact(ctx.kv, `forgetting repository ${repositoryId}`, async (tx) => {
    const grants = await tx.scan(keys.collaborators(repositoryId));
    const userNames = grants.map(({ key }) => keySuffix(key, keys.collaborators(repositoryId)));
    await tx.getMany(userNames.map((user) => keys.userCollaboration(user, repositoryId)));
    for (const { key } of grants) tx.delete(key);
    for (const user of userNames) tx.delete(keys.userCollaboration(user, repositoryId));
    await stageRepositoryTeamsRemoval(tx, repositoryId);
  });
}
