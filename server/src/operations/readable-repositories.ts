import type { AccessLevel, AccountStore, User } from '@gitfleet/accounts';
import type { RepositoryInfo } from '@gitfleet/repository';

/** The repositories among `infos` that `user` (undefined: anonymous) may read, with that access; the checks run together. */
export async function readableRepositories(
  accounts: AccountStore,
  user: User | undefined,
  infos: readonly RepositoryInfo[],
): Promise<Array<{ info: RepositoryInfo; access: AccessLevel }>> {
  const levels = await Promise.all(infos.map((info) => accounts.repositoryAccess(user, info)));
  return infos.flatMap((info, index) => (levels[index] === 'none' ? [] : [{ info, access: levels[index] }]));
}
