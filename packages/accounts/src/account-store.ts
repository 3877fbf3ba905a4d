/** The one object the server holds: every account operation, over one KV store (scope `accounts`). */
import type { KVStore } from '@gitfleet/storage';
import * as access from './access.js';
import * as collaborators from './collaborators.js';
import type { AccountsContext } from './context.js';
import * as organizations from './organizations.js';
import { argon2Hasher, PasswordChecker, type PasswordHasher } from './passwords.js';
import * as sessions from './sessions.js';
import * as teams from './teams.js';
import * as tokens from './tokens.js';
import type {
  AccessLevel,
  Actor,
  Organization,
  OrgRole,
  Owner,
  Permission,
  RepositoryRef,
  Team,
  TokenInfo,
  TokenScope,
  User,
} from './types.js';
import * as users from './users.js';

export interface AccountStoreOptions {
  passwordHasher?: PasswordHasher;
  /** The current time; tests move it forward to expire tokens and sessions. */
  clock?: () => Date;
}

export class AccountStore {
  private readonly ctx: AccountsContext;

  constructor(kv: KVStore, options: AccountStoreOptions = {}) {
    this.ctx = {
      kv,
      passwords: new PasswordChecker(options.passwordHasher ?? argon2Hasher()),
      now: options.clock ?? (() => new Date()),
    };
  }

  // Users
  createUser(input: { name: string; email: string; password: string; fullName?: string; isAdmin?: boolean }): Promise<User> {
    return users.createUser(this.ctx, input);
  }
  getUser(name: string): Promise<User | undefined> {
    return users.getUser(this.ctx, name);
  }
  listUsers(): Promise<User[]> {
    return users.listUsers(this.ctx);
  }
  /** A new password signs the user out of every web session (its tokens stay). */
  updateUser(name: string, patch: { email?: string; fullName?: string; isAdmin?: boolean; password?: string }): Promise<User> {
    return users.updateUser(this.ctx, name, patch);
  }
  /** Also removes its tokens, sessions, memberships and collaborator grants; refused (AccountConflict) while it is an organisation's last owner. */
  deleteUser(name: string): Promise<void> {
    return users.deleteUser(this.ctx, name);
  }
  /** The user when the password is right; undefined otherwise (unknown user included, in similar time). */
  verifyPassword(name: string, password: string): Promise<User | undefined> {
    return users.verifyPassword(this.ctx, name, password);
  }

  // Owners (the shared namespace)
  getOwner(name: string): Promise<Owner | undefined> {
    return users.getOwner(this.ctx, name);
  }

  // Organisations
  createOrganization(input: { name: string; creator: string; fullName?: string; description?: string }): Promise<Organization> {
    return organizations.createOrganization(this.ctx, input);
  }
  getOrganization(name: string): Promise<Organization | undefined> {
    return organizations.getOrganization(this.ctx, name);
  }
  listOrganizations(): Promise<Organization[]> {
    return organizations.listOrganizations(this.ctx);
  }
  updateOrganization(name: string, patch: { fullName?: string; description?: string }): Promise<Organization> {
    return organizations.updateOrganization(this.ctx, name, patch);
  }
  deleteOrganization(name: string): Promise<void> {
    return organizations.deleteOrganization(this.ctx, name);
  }
  setMember(org: string, user: string, role: OrgRole): Promise<void> {
    return organizations.setMember(this.ctx, org, user, role);
  }
  removeMember(org: string, user: string): Promise<void> {
    return organizations.removeMember(this.ctx, org, user);
  }
  listMembers(org: string): Promise<Array<{ user: User; role: OrgRole }>> {
    return organizations.listMembers(this.ctx, org);
  }
  /** The user's role, undefined when not a member. */
  memberRole(org: string, user: string): Promise<OrgRole | undefined> {
    return organizations.memberRole(this.ctx, org, user);
  }
  listUserOrganizations(user: string): Promise<Array<{ org: Organization; role: OrgRole }>> {
    return organizations.listUserOrganizations(this.ctx, user);
  }

  // Teams
  createTeam(
    org: string,
    input: { name: string; description?: string; permission: Permission; includesAllRepositories?: boolean },
  ): Promise<Team> {
    return teams.createTeam(this.ctx, org, input);
  }
  getTeam(org: string, team: string): Promise<Team | undefined> {
    return teams.getTeam(this.ctx, org, team);
  }
  listTeams(org: string): Promise<Team[]> {
    return teams.listTeams(this.ctx, org);
  }
  updateTeam(
    org: string,
    team: string,
    patch: { name?: string; description?: string; permission?: Permission; includesAllRepositories?: boolean },
  ): Promise<Team> {
    return teams.updateTeam(this.ctx, org, team, patch);
  }
  deleteTeam(org: string, team: string): Promise<void> {
    return teams.deleteTeam(this.ctx, org, team);
  }
  /** The user must be a member of the organisation (made a member if not). */
  addTeamMember(org: string, team: string, user: string): Promise<void> {
    return teams.addTeamMember(this.ctx, org, team, user);
  }
  removeTeamMember(org: string, team: string, user: string): Promise<void> {
    return teams.removeTeamMember(this.ctx, org, team, user);
  }
  listTeamMembers(org: string, team: string): Promise<User[]> {
    return teams.listTeamMembers(this.ctx, org, team);
  }
  addTeamRepository(org: string, team: string, repositoryId: string): Promise<void> {
    return teams.addTeamRepository(this.ctx, org, team, repositoryId);
  }
  removeTeamRepository(org: string, team: string, repositoryId: string): Promise<void> {
    return teams.removeTeamRepository(this.ctx, org, team, repositoryId);
  }
  listTeamRepositories(org: string, team: string): Promise<string[]> {
    return teams.listTeamRepositories(this.ctx, org, team);
  }
  /** Revokes every team's grant on the repository and keeps its collaborators (when it moves to another owner). */
  forgetRepositoryTeams(repositoryId: string): Promise<void> {
    return teams.forgetRepositoryTeams(this.ctx, repositoryId);
  }

  // Collaborators (per repository id)
  setCollaborator(repositoryId: string, user: string, permission: Permission): Promise<void> {
    return collaborators.setCollaborator(this.ctx, repositoryId, user, permission);
  }
  removeCollaborator(repositoryId: string, user: string): Promise<void> {
    return collaborators.removeCollaborator(this.ctx, repositoryId, user);
  }
  listCollaborators(repositoryId: string): Promise<Array<{ user: User; permission: Permission }>> {
    return collaborators.listCollaborators(this.ctx, repositoryId);
  }
  /** The repositories (by id) on which the user is a collaborator, with the permission granted. */
  listUserCollaborations(user: string): Promise<Array<{ repositoryId: string; permission: Permission }>> {
    return collaborators.listUserCollaborations(this.ctx, user);
  }
  /** Removes every grant naming the repository (when it is deleted). */
  forgetRepository(repositoryId: string): Promise<void> {
    return collaborators.forgetRepository(this.ctx, repositoryId);
  }

  // Access
  /**
   * What `user` (undefined = anonymous) may do with the repository: site admin → admin;
   * the owning user → admin; owners of the owning organisation → admin; otherwise the highest
   * of: its teams' permission (teams covering this repository or all repositories), a
   * collaborator grant, 'read' for members of the owning organisation, 'read' when public.
   */
  repositoryAccess(user: User | undefined, repo: RepositoryRef): Promise<AccessLevel> {
    return access.repositoryAccess(this.ctx, user, repo);
  }
  /** Whether the user may create repositories under `owner`: itself, a site admin, or a member of that organisation. */
  mayCreateUnder(user: User, owner: string): Promise<boolean> {
    return access.mayCreateUnder(this.ctx, user, owner);
  }
  /** Whether the user may administer the organisation (owner role or site admin). */
  mayAdministerOrganization(user: User, org: string): Promise<boolean> {
    return access.mayAdministerOrganization(this.ctx, user, org);
  }
  /** Whether the user (undefined = anonymous) may see the organisation's members and teams: its members and site admins. */
  maySeeOrganizationMembers(user: User | undefined, org: string): Promise<boolean> {
    return access.maySeeOrganizationMembers(this.ctx, user, org);
  }

  // Personal access tokens (stored as SHA-256 of the secret; the secret is returned only here)
  /**
   * `secret` is only for the bootstrap administrator of an automated deployment
   * (GITFLEET_ADMIN_TOKEN, at least 32 characters); otherwise a random one is made ("gf_" + 40 base62).
   */
  createToken(
    user: string,
    input: { name: string; scopes: readonly TokenScope[]; expiresAt?: string; secret?: string },
  ): Promise<{ token: string; info: TokenInfo }> {
    return tokens.createToken(this.ctx, user, input);
  }
  listTokens(user: string): Promise<TokenInfo[]> {
    return tokens.listTokens(this.ctx, user);
  }
  /** By token id or name. */
  revokeToken(user: string, idOrName: string): Promise<void> {
    return tokens.revokeToken(this.ctx, user, idOrName);
  }
  /** The actor for a token secret; undefined when unknown, revoked or expired. */
  authenticateToken(secret: string): Promise<Actor | undefined> {
    return tokens.authenticateToken(this.ctx, secret);
  }

  // Web sessions (stored as SHA-256 of the cookie value)
  createSession(user: string, options?: { ttlMs?: number }): Promise<{ cookieValue: string; expiresAt: string }> {
    return sessions.createSession(this.ctx, user, options);
  }
  /** A new session when the password is right (and still the user's when the session is made); undefined otherwise. */
  signIn(
    user: string,
    password: string,
    options?: { ttlMs?: number },
  ): Promise<{ user: User; cookieValue: string; expiresAt: string } | undefined> {
    return sessions.signIn(this.ctx, user, password, options);
  }
  authenticateSession(cookieValue: string): Promise<Actor | undefined> {
    return sessions.authenticateSession(this.ctx, cookieValue);
  }
  deleteSession(cookieValue: string): Promise<void> {
    return sessions.deleteSession(this.ctx, cookieValue);
  }
}
