/**
 * Accounts of a Gitfleet server: users, organisations with members and teams, collaborators,
 * access tokens, web sessions, and the one function that decides what someone may do with a
 * repository. Everything lives in the KV store (scope `accounts`), so every server process of a
 * fleet sees the same accounts. CONTRACT: signatures the server builds on; the implementation
 * replaces these `declare`d stubs.
 */
import type { KVStore } from '@gitfleet/storage';

export type Permission = 'read' | 'write' | 'admin';
/** 'none' sorts below read < write < admin. */
export type AccessLevel = 'none' | Permission;

/** Gitea's token scopes. A write scope implies its read scope. */
export const TOKEN_SCOPES = [
  'read:repository',
  'write:repository',
  'read:user',
  'write:user',
  'read:organization',
  'write:organization',
  'read:admin',
  'write:admin',
] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

export interface User {
  id: string;
  /** Spelling as created; lookups ignore case. Users and organisations share one namespace. */
  name: string;
  email: string;
  fullName: string;
  isAdmin: boolean;
  createdAt: string;
}

export interface Organization {
  id: string;
  name: string;
  fullName: string;
  description: string;
  createdAt: string;
}

export type OrgRole = 'owner' | 'member';

export interface Team {
  id: string;
  org: string;
  /** Unique within the organisation, case-insensitively. */
  name: string;
  description: string;
  permission: Permission;
  /** True: the team's permission applies to every repository of the organisation. */
  includesAllRepositories: boolean;
  createdAt: string;
}

export interface TokenInfo {
  id: string;
  user: string;
  name: string;
  scopes: TokenScope[];
  createdAt: string;
  /** ISO 8601; absent = never expires. */
  expiresAt?: string;
}

/** Who a request acts as, and what its credential allows. */
export interface Actor {
  user: User;
  via: 'password' | 'token' | 'session';
  /** 'all' for a password or a web session; the token's scopes otherwise. */
  scopes: 'all' | readonly TokenScope[];
}

/** What the permission check needs to know of a repository (from the repository registry). */
export interface RepositoryRef {
  id: string;
  owner: string;
  private: boolean;
}

export type Owner = { kind: 'user'; user: User } | { kind: 'org'; org: Organization };

/** A name taken, a member already there: the API answers 409/422 with its message. */
export class AccountConflict extends Error {}
/** No such user, organisation, team, token: the API answers 404 with its message. */
export class AccountNotFound extends Error {}
/** A name, email, password or scope that is not allowed: 422 with its message. */
export class InvalidAccountInput extends Error {}

export declare class AccountStore {
  constructor(kv: KVStore, options?: { passwordHasher?: PasswordHasher });

  // Users
  createUser(input: { name: string; email: string; password: string; fullName?: string; isAdmin?: boolean }): Promise<User>;
  getUser(name: string): Promise<User | undefined>;
  listUsers(): Promise<User[]>;
  updateUser(name: string, patch: { email?: string; fullName?: string; isAdmin?: boolean; password?: string }): Promise<User>;
  /** Also removes its tokens, sessions, memberships and collaborator grants. */
  deleteUser(name: string): Promise<void>;
  /** The user when the password is right; undefined otherwise (unknown user included, in similar time). */
  verifyPassword(name: string, password: string): Promise<User | undefined>;

  // Owners (the shared namespace)
  getOwner(name: string): Promise<Owner | undefined>;

  // Organisations
  createOrganization(input: { name: string; creator: string; fullName?: string; description?: string }): Promise<Organization>;
  getOrganization(name: string): Promise<Organization | undefined>;
  listOrganizations(): Promise<Organization[]>;
  updateOrganization(name: string, patch: { fullName?: string; description?: string }): Promise<Organization>;
  deleteOrganization(name: string): Promise<void>;
  setMember(org: string, user: string, role: OrgRole): Promise<void>;
  removeMember(org: string, user: string): Promise<void>;
  listMembers(org: string): Promise<Array<{ user: User; role: OrgRole }>>;
  /** The user's role, undefined when not a member. */
  memberRole(org: string, user: string): Promise<OrgRole | undefined>;
  listUserOrganizations(user: string): Promise<Array<{ org: Organization; role: OrgRole }>>;

  // Teams
  createTeam(org: string, input: { name: string; description?: string; permission: Permission; includesAllRepositories?: boolean }): Promise<Team>;
  getTeam(org: string, team: string): Promise<Team | undefined>;
  listTeams(org: string): Promise<Team[]>;
  updateTeam(org: string, team: string, patch: { name?: string; description?: string; permission?: Permission; includesAllRepositories?: boolean }): Promise<Team>;
  deleteTeam(org: string, team: string): Promise<void>;
  /** The user must be a member of the organisation (made a member if not). */
  addTeamMember(org: string, team: string, user: string): Promise<void>;
  removeTeamMember(org: string, team: string, user: string): Promise<void>;
  listTeamMembers(org: string, team: string): Promise<User[]>;
  addTeamRepository(org: string, team: string, repositoryId: string): Promise<void>;
  removeTeamRepository(org: string, team: string, repositoryId: string): Promise<void>;
  listTeamRepositories(org: string, team: string): Promise<string[]>;

  // Collaborators (per repository id)
  setCollaborator(repositoryId: string, user: string, permission: Permission): Promise<void>;
  removeCollaborator(repositoryId: string, user: string): Promise<void>;
  listCollaborators(repositoryId: string): Promise<Array<{ user: User; permission: Permission }>>;
  /** Removes every grant naming the repository (when it is deleted). */
  forgetRepository(repositoryId: string): Promise<void>;

  // Access
  /**
   * What `user` (undefined = anonymous) may do with the repository: site admin → admin;
   * the owning user → admin; owners of the owning organisation → admin; otherwise the highest
   * of: its teams' permission (teams covering this repository or all repositories), a
   * collaborator grant, 'read' for members of the owning organisation, 'read' when public.
   */
  repositoryAccess(user: User | undefined, repo: RepositoryRef): Promise<AccessLevel>;
  /** Whether the user may create repositories under `owner`: itself, a site admin, or a member of that organisation. */
  mayCreateUnder(user: User, owner: string): Promise<boolean>;
  /** Whether the user may administer the organisation (owner role or site admin). */
  mayAdministerOrganization(user: User, org: string): Promise<boolean>;

  // Personal access tokens (stored as SHA-256 of the secret; the secret is returned only here)
  /**
   * `secret` is only for the bootstrap administrator of an automated deployment
   * (GITFLEET_ADMIN_TOKEN, at least 32 characters); otherwise a random one is made ("gf_" + 40 base62).
   */
  createToken(user: string, input: { name: string; scopes: readonly TokenScope[]; expiresAt?: string; secret?: string }): Promise<{ token: string; info: TokenInfo }>;
  listTokens(user: string): Promise<TokenInfo[]>;
  /** By token id or name. */
  revokeToken(user: string, idOrName: string): Promise<void>;
  /** The actor for a token secret; undefined when unknown, revoked or expired. */
  authenticateToken(secret: string): Promise<Actor | undefined>;

  // Web sessions (stored as SHA-256 of the cookie value)
  createSession(user: string, options?: { ttlMs?: number }): Promise<{ cookieValue: string; expiresAt: string }>;
  authenticateSession(cookieValue: string): Promise<Actor | undefined>;
  deleteSession(cookieValue: string): Promise<void>;
}

/** Password hashing (argon2id); a test may pass cheaper parameters. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
}

/** Whether an actor's credential carries `scope` (a write scope implies its read scope; 'all' carries everything). */
export declare function hasScope(actor: Actor, scope: TokenScope): boolean;
/** max('none','read') === 'read' … */
export declare function atLeast(level: AccessLevel, needed: Permission): boolean;
