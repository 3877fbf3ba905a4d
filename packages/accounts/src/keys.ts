/**
 * The KV layout of accounts: every key lives in the one scope `accounts`, so any set of them
 * can change together in one compareAndSwap. Names in keys are lower-cased (lookups ignore
 * case); they cannot contain ":", so `prefix:<name>:` scans never match a longer name.
 * Relations are stored both ways (org → member and user → org…) so that listing either side
 * and deleting a user or an organisation are prefix scans, never a scan of everything.
 */

export const ACCOUNTS_SCOPE = 'accounts';

export const lower = (name: string): string => name.toLowerCase();

export const keys = {
  /** The shared user/organisation namespace: 'user' | 'org'. */
  owner: (name: string) => `owner:${lower(name)}`,
  user: (name: string) => `user:${lower(name)}`,
  userPrefix: 'user:',
  org: (name: string) => `org:${lower(name)}`,
  orgPrefix: 'org:',
  /** Last id handed out of a sequence (users and organisations share one, as on GitHub). */
  sequence: (kind: 'owner' | 'team' | 'token') => `seq:${kind}`,
  /**
   * Changed by every write that adds an entry naming the user, org or team, and expected
   * unchanged by its deletion: a deletion thus never misses an entry added while it scanned.
   */
  userRevision: (user: string) => `rev:user:${lower(user)}`,
  orgRevision: (org: string) => `rev:org:${lower(org)}`,
  teamRevision: (teamId: string) => `rev:team:${teamId}`,

  orgMember: (org: string, user: string) => `orgmember:${lower(org)}:${lower(user)}`,
  orgMembers: (org: string) => `orgmember:${lower(org)}:`,
  userOrg: (user: string, org: string) => `userorg:${lower(user)}:${lower(org)}`,
  userOrgs: (user: string) => `userorg:${lower(user)}:`,

  team: (teamId: string) => `team:${teamId}`,
  teamName: (org: string, team: string) => `teamname:${lower(org)}:${lower(team)}`,
  teamNames: (org: string) => `teamname:${lower(org)}:`,
  teamMember: (teamId: string, user: string) => `teammember:${teamId}:${lower(user)}`,
  teamMembers: (teamId: string) => `teammember:${teamId}:`,
  /** Value: the lower-cased organisation of the team. */
  userTeam: (user: string, teamId: string) => `userteam:${lower(user)}:${teamId}`,
  userTeams: (user: string) => `userteam:${lower(user)}:`,
  teamRepository: (teamId: string, repositoryId: string) => `teamrepo:${teamId}:${repositoryId}`,
  teamRepositories: (teamId: string) => `teamrepo:${teamId}:`,
  repositoryTeam: (repositoryId: string, teamId: string) => `repoteam:${repositoryId}:${teamId}`,
  repositoryTeams: (repositoryId: string) => `repoteam:${repositoryId}:`,

  /** Value: the permission. */
  collaborator: (repositoryId: string, user: string) => `collab:${repositoryId}:${lower(user)}`,
  collaborators: (repositoryId: string) => `collab:${repositoryId}:`,
  userCollaboration: (user: string, repositoryId: string) => `usercollab:${lower(user)}:${repositoryId}`,
  userCollaborations: (user: string) => `usercollab:${lower(user)}:`,

  /** Value: the token's record; keyed by the SHA-256 of the secret. */
  token: (secretHash: string) => `token:${secretHash}`,
  /** Value: the SHA-256 of the secret. */
  userToken: (user: string, tokenId: string) => `usertoken:${lower(user)}:${tokenId}`,
  userTokens: (user: string) => `usertoken:${lower(user)}:`,
  /** Value: the token id. Token names may hold spaces, hence the encoding. */
  tokenName: (user: string, name: string) => `tokenname:${lower(user)}:${encodeURIComponent(name)}`,
  tokenNames: (user: string) => `tokenname:${lower(user)}:`,

  /** Value: the session's record; keyed by the SHA-256 of the cookie value. */
  session: (cookieHash: string) => `session:${cookieHash}`,
  userSession: (user: string, cookieHash: string) => `usersession:${lower(user)}:${cookieHash}`,
  userSessions: (user: string) => `usersession:${lower(user)}:`,
} as const;

/** The part of a key after its prefix (the last segment of a relation key). */
export function keySuffix(key: string, prefix: string): string {
  return key.slice(prefix.length);
}
