import type { Request } from 'express';
import type { AccessLevel, Actor, Permission } from '@gitfleet/accounts';
import { atLeast } from '@gitfleet/accounts';
import type { ObjectId } from '@gitfleet/git-format';
import { defaultBranch } from '@gitfleet/browse';
import type { Repository } from '@gitfleet/repository';
import { authorizeRepository, requestActor } from '../auth/index.js';
import { HttpError } from '../http-errors.js';
import type { ServerServices } from '../services.js';
import { html, type Html } from './html.js';
import { repoUrl, ownerUrl } from './urls.js';

export interface RepoContext {
  repo: Repository;
  access: AccessLevel;
}

export function param(req: Request, name: string): string {
  const value = req.params[name];
  return typeof value === 'string' ? value : '';
}

/** The "/"-joined segments of an Express 5 wildcard parameter (`*rest`). */
export function wildcard(req: Request, name: string): string[] {
  const value = (req.params as Record<string, unknown>)[name];
  const segments = Array.isArray(value) ? value : typeof value === 'string' ? value.split('/') : [];
  return segments.filter((segment): segment is string => typeof segment === 'string' && segment !== '');
}

/**
 * Who the page is for: every web route asks here, never requestActor. The web pages take no
 * access tokens (403), as GitHub's do not: a page does whatever its visitor may (create
 * repositories and organisations, list private ones), which no token scope describes. Tokens
 * are for the API and git; a browser signs in.
 */
export function visitor(req: Request): Actor | undefined {
  const actor = requestActor(req);
  if (actor?.via === 'token')
    throw new HttpError(403, 'the web pages do not accept access tokens (they are for the API and git): sign in instead');
  return actor;
}

/** 401 (the web router redirects it to the sign-in page) unless someone is signed in. */
export function requireSignedIn(req: Request): Actor {
  const actor = visitor(req);
  if (!actor) throw new HttpError(401, 'sign in to see this page');
  return actor;
}

/** The repository of the URL, with the visitor's access checked (a private one is a 404 to strangers). */
export async function loadRepo(services: ServerServices, req: Request, needed: Permission): Promise<RepoContext> {
  if (needed === 'read') visitor(req);
  else requireSignedIn(req);
  const { repo, access } = await authorizeRepository(services, req, param(req, 'owner'), param(req, 'repo'), needed, 'web');
  return { repo, access };
}

/**
 * The branch a repository opens at: HEAD's, or when HEAD names a branch nobody pushed (a
 * repository created with "main" that received only "master") the first branch there is, as
 * a clone would have to pick one too. No commit: the repository is empty.
 */
export async function homeBranch(repo: Repository): Promise<{ name: string; commit?: ObjectId }> {
  const head = await defaultBranch(repo);
  if (head.commit) return head;
  const [first] = await repo.refs.list('refs/heads/');
  return first ? { name: first.name.slice('refs/heads/'.length), commit: first.oid } : head;
}

export type RepoTab = 'code' | 'commits' | 'branches' | 'tags' | 'settings';

export function repoHeader(context: RepoContext, selected: RepoTab): Html {
  const { info } = context.repo;
  const tab = (name: RepoTab, label: string, href: string) =>
    html`<a id="repo-tab-${name}" class="${name === selected ? 'selected' : ''}" href="${href}">${label}</a>`;
  return html`<div id="repo-header" data-repo="${info.owner}/${info.name}">
<h1><a href="${ownerUrl(info.owner)}">${info.owner}</a> / <a class="repo-name" href="${repoUrl(info)}">${info.name}</a>
${info.private ? html`<span class="badge" id="private-badge">Private</span>` : html`<span class="badge">Public</span>`}</h1>
${info.description ? html`<p class="repo-description" id="repo-description">${info.description}</p>` : ''}
<nav class="tabs">
${tab('code', 'Code', repoUrl(info))}
${tab('commits', 'Commits', repoUrl(info, 'commits'))}
${tab('branches', 'Branches', repoUrl(info, 'branches'))}
${tab('tags', 'Tags', repoUrl(info, 'tags'))}
${atLeast(context.access, 'admin') ? tab('settings', 'Settings', repoUrl(info, 'settings')) : ''}
</nav></div>`;
}
