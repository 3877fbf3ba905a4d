/** The account model every module and every consumer of @gitfleet/accounts shares. */

export type Permission = 'read' | 'write' | 'admin';
/** 'none' sorts below read < write < admin. */
export type AccessLevel = 'none' | Permission;

export const PERMISSIONS: readonly Permission[] = ['read', 'write', 'admin'];

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
  /** The secret's last eight characters (Gitea's token_last_eight), so a user can tell tokens apart. */
  lastEight?: string;
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
