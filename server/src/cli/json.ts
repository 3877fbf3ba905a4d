import type { Organization, TokenInfo, User } from '@gitfleet/accounts';
import type { Repository } from '@gitfleet/repository';
import { cloneUrl } from '../operations/clone-url.js';

/** The `--json` shapes: the REST API's field names (GitHub's and Gitea's), so scripts can use either. */

export function userJson(user: User, baseUrl: string) {
  return {
    id: user.id,
    login: user.name,
    full_name: user.fullName,
    email: user.email,
    is_admin: user.isAdmin,
    type: 'User' as const,
    created_at: user.createdAt,
    html_url: `${baseUrl}/${encodeURIComponent(user.name)}`,
  };
}

export function orgJson(org: Organization, baseUrl: string) {
  return {
    id: org.id,
    login: org.name,
    full_name: org.fullName,
    description: org.description,
    type: 'Organization' as const,
    created_at: org.createdAt,
    html_url: `${baseUrl}/${encodeURIComponent(org.name)}`,
  };
}

export function tokenJson(token: TokenInfo) {
  return { id: token.id, name: token.name, scopes: token.scopes, created_at: token.createdAt, expires_at: token.expiresAt ?? null };
}

export async function repoJson(repo: Repository, baseUrl: string) {
  const { info } = repo;
  return {
    id: info.id,
    name: info.name,
    full_name: `${info.owner}/${info.name}`,
    owner: { login: info.owner },
    private: info.private,
    description: info.description,
    default_branch: (await repo.refs.head()).replace(/^refs\/heads\//, ''),
    clone_url: cloneUrl(baseUrl, info.owner, info.name),
    html_url: `${baseUrl}/${encodeURIComponent(info.owner)}/${encodeURIComponent(info.name)}`,
    created_at: info.createdAt,
  };
}
