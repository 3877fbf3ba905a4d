/**
 * The JSON shapes of users, organisations, teams, tokens and repositories in the REST API,
 * with GitHub's field names (Gitea uses the same ones for these), and their schemas for the
 * OpenAPI document.
 */
import { z } from 'zod';
import type { AccessLevel, Actor, Organization, OrgRole, Permission, Team, TokenInfo, User } from '@gitfleet/accounts';
import type { RepositoryInfo } from '@gitfleet/repository';
import { cloneUrl } from '../operations/clone-url.js';

export const userSchema = z
  .object({
    id: z.string(),
    login: z.string(),
    full_name: z.string(),
    email: z.string().meta({ description: 'Empty unless the caller is this user or a site administrator' }),
    is_admin: z.boolean(),
    type: z.literal('User'),
    created_at: z.string(),
    html_url: z.string(),
  })
  .meta({ id: 'User' });
export type UserJson = z.infer<typeof userSchema>;

/** A user; the email only for the user itself and site administrators. */
export function userJson(user: User, baseUrl: string, viewer: Actor | undefined): UserJson {
  const mayReadEmail = viewer !== undefined && (viewer.user.isAdmin || viewer.user.id === user.id);
  return {
    id: user.id,
    login: user.name,
    full_name: user.fullName,
    email: mayReadEmail ? user.email : '',
    is_admin: user.isAdmin,
    type: 'User',
    created_at: user.createdAt,
    html_url: ownerUrl(baseUrl, user.name),
  };
}

export const organizationSchema = z
  .object({
    id: z.string(),
    login: z.string(),
    full_name: z.string(),
    description: z.string(),
    type: z.literal('Organization'),
    created_at: z.string(),
    html_url: z.string(),
  })
  .meta({ id: 'Organization' });
export type OrganizationJson = z.infer<typeof organizationSchema>;

export function organizationJson(org: Organization, baseUrl: string): OrganizationJson {
  return {
    id: org.id,
    login: org.name,
    full_name: org.fullName,
    description: org.description,
    type: 'Organization',
    created_at: org.createdAt,
    html_url: ownerUrl(baseUrl, org.name),
  };
}

/** GitHub calls an organisation's owners "admin" in memberships. */
export const membershipRoleSchema = z.enum(['admin', 'owner', 'member']);

export function orgRoleFromJson(role: z.infer<typeof membershipRoleSchema>): OrgRole {
  return role === 'member' ? 'member' : 'owner';
}

export const orgMembershipSchema = z
  .object({ state: z.literal('active'), role: z.enum(['admin', 'member']), organization: organizationSchema, user: userSchema })
  .meta({ id: 'OrgMembership' });

export function orgMembershipJson(org: Organization, user: User, role: OrgRole, baseUrl: string, viewer: Actor | undefined) {
  return {
    state: 'active' as const,
    role: role === 'owner' ? ('admin' as const) : ('member' as const),
    organization: organizationJson(org, baseUrl),
    user: userJson(user, baseUrl, viewer),
  };
}

/** Gitea's permission names, and GitHub's pull/push as aliases. */
export const permissionSchema = z.enum(['read', 'write', 'admin', 'pull', 'push']);

export function permissionFromJson(value: z.infer<typeof permissionSchema>): Permission {
  if (value === 'pull') return 'read';
  if (value === 'push') return 'write';
  return value;
}

export const teamSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    slug: z.string(),
    description: z.string(),
    permission: z.enum(['read', 'write', 'admin']),
    includes_all_repositories: z.boolean(),
    organization: z.object({ login: z.string() }),
  })
  .meta({ id: 'Team' });

export function teamJson(team: Team) {
  return {
    id: team.id,
    name: team.name,
    slug: teamSlug(team),
    description: team.description,
    permission: team.permission,
    includes_all_repositories: team.includesAllRepositories,
    organization: { login: team.org },
  };
}

/** Team names follow the owner name rules, so the lower-cased name is already URL-safe. */
export function teamSlug(team: Team): string {
  return team.name.toLowerCase();
}

export const tokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    sha1: z.string().optional().meta({ description: 'The secret; only in the answer that creates the token' }),
    token_last_eight: z.string(),
    scopes: z.array(z.string()),
    created_at: z.string(),
    expires_at: z.string().nullable(),
  })
  .meta({ id: 'AccessToken' });

export function tokenJson(info: TokenInfo, secret?: string) {
  return {
    id: info.id,
    name: info.name,
    ...(secret === undefined ? {} : { sha1: secret }),
    token_last_eight: info.lastEight ?? secret?.slice(-8) ?? '',
    scopes: [...info.scopes],
    created_at: info.createdAt,
    expires_at: info.expiresAt ?? null,
  };
}

export const permissionsSchema = z.object({ admin: z.boolean(), push: z.boolean(), pull: z.boolean() });

export function permissionsJson(access: AccessLevel) {
  return { admin: access === 'admin', push: access === 'admin' || access === 'write', pull: access !== 'none' };
}

export const repositorySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    full_name: z.string(),
    owner: z.object({ login: z.string(), type: z.enum(['User', 'Organization']) }),
    private: z.boolean(),
    description: z.string(),
    default_branch: z.string(),
    clone_url: z.string(),
    html_url: z.string(),
    created_at: z.string(),
    permissions: permissionsSchema,
  })
  .meta({ id: 'Repository' });
export type RepositoryJson = z.infer<typeof repositorySchema>;

export interface RepositoryFacts {
  info: RepositoryInfo;
  ownerType: 'User' | 'Organization';
  /** HEAD's target, "refs/heads/main". */
  head: string;
  access: AccessLevel;
}

export function repositoryJson({ info, ownerType, head, access }: RepositoryFacts, baseUrl: string): RepositoryJson {
  return {
    id: info.id,
    name: info.name,
    full_name: `${info.owner}/${info.name}`,
    owner: { login: info.owner, type: ownerType },
    private: info.private,
    description: info.description,
    default_branch: head.replace(/^refs\/heads\//, ''),
    clone_url: cloneUrl(baseUrl, info.owner, info.name),
    html_url: `${ownerUrl(baseUrl, info.owner)}/${encodeURIComponent(info.name)}`,
    created_at: info.createdAt,
    permissions: permissionsJson(access),
  };
}

export const collaboratorSchema = userSchema
  .extend({ permissions: permissionsSchema, role_name: z.enum(['read', 'write', 'admin']) })
  .meta({ id: 'Collaborator' });

export const repositoryPermissionSchema = z
  .object({ permission: z.enum(['none', 'read', 'write', 'admin']), role_name: z.string(), user: userSchema })
  .meta({ id: 'RepositoryPermission' });

function ownerUrl(baseUrl: string, owner: string): string {
  return `${baseUrl}/${encodeURIComponent(owner)}`;
}
