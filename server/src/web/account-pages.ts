import { Router, type Request, type Response } from 'express';
import { AccountConflict, InvalidAccountInput, type Actor, type User } from '@gitfleet/accounts';
import { InvalidRepositoryName, RepositoryExists, type RepositoryInfo } from '@gitfleet/repository';
import { createRepository } from '../operations/create-repository.js';
import { CreationRefused, OwnerNotFound } from '../operations/errors.js';
import { existingOwner, ownerDisplayName, ownerName } from '../operations/owners.js';
import { readableRepositories } from '../operations/readable-repositories.js';
import { affiliatedRepositories } from '../operations/user-repositories.js';
import type { ServerServices } from '../services.js';
import { field, parseForm } from './forms.js';
import { html, type Html } from './html.js';
import { csrfField, flash, formatDate, sendPage } from './layout.js';
import { orgHooksUrl, orgUrl } from './org-pages.js';
import { pageNumber, pageOf, pager } from './pagination.js';
import { param, requireSignedIn, visitor } from './repo-context.js';
import { checkCsrf } from './session.js';
import { ownerStorageBox } from './storage-views.js';
import { ownerUrl, repoUrl } from './urls.js';

/** Dashboard and explore, creating repositories and organisations, user and organisation pages. */
export function accountPages(services: ServerServices): Router {
  const router = Router();
  const { accounts, registry } = services;

  /** The repositories of these owners the visitor may read. */
  const readable = async (user: User | undefined, infos: RepositoryInfo[]) =>
    (await readableRepositories(accounts, user, infos)).map(({ info }) => info);

  const explore = async (req: Request, res: Response, title: string) => {
    const actor = visitor(req);
    const all = (await registry.list()).filter((info) => !info.private);
    const page = pageNumber(req);
    const shown = pageOf(all, page);
    const body = html`<div class="page-head"><h1>${title}</h1>${actor ? html`<a class="btn btn-primary" id="new-repository-button" href="/new">New repository</a>` : ''}</div>
<div class="box">${repositoryList(shown.items, 'explore-repositories', true)}</div>${pager(req, page, shown.hasMore)}`;
    sendPage(req, res, { title, body });
  };

  router.get('/', async (req, res) => {
    const actor = visitor(req);
    if (!actor) {
      await explore(req, res, 'Public repositories');
      return;
    }
    const [organizations, reached] = await Promise.all([
      accounts.listUserOrganizations(actor.user.name),
      affiliatedRepositories(services, actor.user),
    ]);
    const page = pageNumber(req);
    const shown = pageOf(reached, page);
    const body = html`<div class="columns"><div>
<div class="page-head"><h1>Repositories</h1><a class="btn btn-primary" id="new-repository-button" href="/new">New repository</a></div>
<div class="box">${repositoryList(
      shown.items.map(({ info }) => info),
      'dashboard-repositories',
      true,
    )}</div>${pager(req, page, shown.hasMore)}
<p><a href="/explore" id="explore-link">Explore public repositories</a></p></div>
<aside><div class="box"><div class="box-header"><strong>Organizations</strong><a class="btn btn-small push-right" id="new-organization-button" href="/organizations/new">New</a></div>
<ul class="list" id="dashboard-organizations">${organizations.map(({ org, role }) => html`<li data-org="${org.name}"><a href="${ownerUrl(org.name)}">${org.name}</a><span class="badge">${role}</span></li>`)}</ul>
${organizations.length === 0 ? html`<div class="empty">You are in no organization.</div>` : ''}</div></aside></div>`;
    sendPage(req, res, { title: 'Dashboard', body });
  });

  router.get('/explore', (req, res) => explore(req, res, 'Explore'));

  router.get('/new', async (req, res) => {
    const actor = requireSignedIn(req);
    await newRepositoryPage(req, res, actor, {});
  });

  router.post('/new', parseForm, async (req, res) => {
    const actor = requireSignedIn(req);
    checkCsrf(req);
    const owner = field(req, 'owner') || actor.user.name;
    const name = field(req, 'name');
    const description = field(req, 'description');
    const isPrivate = field(req, 'visibility') === 'private';
    const retry = (error: string) => newRepositoryPage(req, res, actor, { owner, name, description, isPrivate, error, status: 422 });
    try {
      const repo = await createRepository(services, { owner, name, private: isPrivate, description, creator: actor.user });
      res.redirect(303, repoUrl(repo.info));
    } catch (error) {
      if (error instanceof OwnerNotFound) return retry(`There is no user or organization named ${owner}.`);
      if (error instanceof CreationRefused) return retry(`You may not create repositories under ${owner}.`);
      if (error instanceof InvalidRepositoryName || error instanceof RepositoryExists) return retry(error.message);
      throw error;
    }
  });

  router.get('/organizations/new', (req, res) => {
    requireSignedIn(req);
    newOrganizationPage(req, res, {});
  });

  router.post('/organizations/new', parseForm, async (req, res) => {
    const actor = requireSignedIn(req);
    checkCsrf(req);
    const input = { name: field(req, 'name'), fullName: field(req, 'full_name'), description: field(req, 'description') };
    try {
      const org = await accounts.createOrganization({ ...input, creator: actor.user.name });
      res.redirect(303, ownerUrl(org.name));
    } catch (error) {
      if (error instanceof AccountConflict || error instanceof InvalidAccountInput) {
        newOrganizationPage(req, res, { ...input, error: error.message, status: 422 });
        return;
      }
      throw error;
    }
  });

  router.get('/:owner', async (req, res) => {
    const owner = await existingOwner(accounts, param(req, 'owner'));
    const actor = visitor(req);
    const repositories = await readable(actor?.user, await registry.listOwnedBy(ownerName(owner)));
    const storageBox = await ownerStorageBox(services, actor?.user, ownerName(owner));
    const repoBox = html`<div class="box"><div class="box-header"><strong>Repositories</strong> <span class="muted">${repositories.length}</span></div>${repositoryList(repositories, 'owner-repositories', false)}</div>`;
    if (owner.kind === 'user') {
      const organizations = await accounts.listUserOrganizations(owner.user.name);
      const body = html`<div class="columns"><div>
<div class="page-head" id="owner-header" data-owner="${owner.user.name}" data-kind="user"><h1>${ownerDisplayName(owner)}
${owner.user.fullName ? html` <span class="muted light">${owner.user.name}</span>` : ''}</h1>
${owner.user.isAdmin ? html`<span class="badge">Site admin</span>` : ''}</div>${repoBox}</div>
<aside><div class="box"><div class="box-header"><strong>Organizations</strong></div>
<ul class="list" id="user-organizations">${organizations.map(({ org }) => html`<li><a href="${ownerUrl(org.name)}">${org.name}</a></li>`)}</ul>
${organizations.length === 0 ? html`<div class="empty">None.</div>` : ''}</div>${storageBox}</aside></div>`;
      sendPage(req, res, { title: owner.user.name, body });
      return;
    }
    const org = owner.org;
    // Who belongs to it is for its members (and site administrators), as in the API.
    const insider = await accounts.maySeeOrganizationMembers(actor?.user, org.name);
    const [members, teams] = insider ? await Promise.all([accounts.listMembers(org.name), accounts.listTeams(org.name)]) : [[], []];
    const mayCreate = actor ? await accounts.mayCreateUnder(actor.user, org.name) : false;
    const administers = actor ? await accounts.mayAdministerOrganization(actor.user, org.name) : false;
    const body = html`<div class="columns"><div>
<div class="page-head" id="owner-header" data-owner="${org.name}" data-kind="organization"><h1>${ownerDisplayName(owner)}</h1><span class="badge">Organization</span>
${mayCreate ? html`<a class="btn btn-primary" id="new-org-repository-button" href="/new?owner=${encodeURIComponent(org.name)}">New repository</a>` : ''}
${administers ? html`<a class="btn" id="org-hooks-link" href="${orgHooksUrl(org.name)}">Webhooks</a>` : ''}</div>
${org.description ? html`<p class="muted" id="org-description">${org.description}</p>` : ''}
${repoBox}</div>
<aside>${
      insider
        ? html`<div class="box"><div class="box-header"><strong>Members</strong> <span class="muted">${members.length}</span>
<a class="btn btn-small push-right" id="org-people-link" href="${orgUrl(org.name, 'people')}">People</a></div>
<ul class="list" id="org-members">${members.map(({ user, role }) => html`<li data-member="${user.name}"><a href="${ownerUrl(user.name)}">${user.name}</a>${role === 'owner' ? html`<span class="badge">owner</span>` : ''}</li>`)}</ul></div>
<div class="box"><div class="box-header"><strong>Teams</strong><a class="btn btn-small push-right" id="org-teams-link" href="${orgUrl(org.name, 'teams')}">Teams</a></div>
<ul class="list" id="org-teams">${teams.map(
            (
              team,
            ) => html`<li data-team="${team.name}"><a class="grow" href="${orgUrl(org.name, 'teams', team.name)}">${team.name}</a><span class="badge">${team.permission}</span>
${team.description ? html`<span class="description">${team.description}</span>` : ''}</li>`,
          )}</ul>
${teams.length === 0 ? html`<div class="empty">No teams.</div>` : ''}</div>`
        : ''
    }${storageBox}
</aside></div>`;
    sendPage(req, res, { title: org.name, body });
  });

  async function newRepositoryPage(
    req: Request,
    res: Response,
    actor: Actor,
    values: { owner?: string; name?: string; description?: string; isPrivate?: boolean; error?: string; status?: number },
  ): Promise<void> {
    const organizations = await accounts.listUserOrganizations(actor.user.name);
    const owners = [actor.user.name];
    for (const { org } of organizations) if (await accounts.mayCreateUnder(actor.user, org.name)) owners.push(org.name);
    const selected = values.owner ?? (typeof req.query.owner === 'string' ? req.query.owner : actor.user.name);
    if (!owners.includes(selected) && actor.user.isAdmin) owners.push(selected);
    const body = html`<h1>Create a new repository</h1>
${values.error ? flash('error', values.error) : ''}
<form id="new-repository-form" class="stacked" method="post" action="/new">${csrfField(req)}
<label for="new-repo-owner">Owner</label>
<select id="new-repo-owner" name="owner">${owners.map((owner) => html`<option value="${owner}" ${owner === selected ? 'selected' : ''}>${owner}</option>`)}</select>
<label for="new-repo-name">Repository name</label>
<input type="text" id="new-repo-name" name="name" value="${values.name ?? ''}" required maxlength="100" autofocus>
<label for="new-repo-description">Description <span class="hint">(optional)</span></label>
<input type="text" id="new-repo-description" name="description" value="${values.description ?? ''}">
<fieldset><legend>Visibility</legend>
<label class="check"><input type="radio" id="visibility-public" name="visibility" value="public" ${values.isPrivate ? '' : 'checked'}> <span><strong>Public</strong> — anyone can see and clone it.</span></label>
<label class="check"><input type="radio" id="visibility-private" name="visibility" value="private" ${values.isPrivate ? 'checked' : ''}> <span><strong>Private</strong> — only you and the people you grant access.</span></label>
</fieldset>
<div class="form-actions"><button type="submit" class="btn btn-primary" id="create-repository">Create repository</button></div>
</form>`;
    sendPage(req, res, { title: 'New repository', body, status: values.status });
  }

  function newOrganizationPage(
    req: Request,
    res: Response,
    values: { name?: string; fullName?: string; description?: string; error?: string; status?: number },
  ): void {
    const body = html`<h1>Create a new organization</h1>
${values.error ? flash('error', values.error) : ''}
<form id="new-organization-form" class="stacked" method="post" action="/organizations/new">${csrfField(req)}
<label for="org-name">Organization name</label>
<input type="text" id="org-name" name="name" value="${values.name ?? ''}" required maxlength="100" autofocus>
<label for="org-full-name">Display name <span class="hint">(optional)</span></label>
<input type="text" id="org-full-name" name="full_name" value="${values.fullName ?? ''}">
<label for="org-description-input">Description <span class="hint">(optional)</span></label>
<input type="text" id="org-description-input" name="description" value="${values.description ?? ''}">
<div class="form-actions"><button type="submit" class="btn btn-primary" id="create-organization">Create organization</button></div>
</form>`;
    sendPage(req, res, { title: 'New organization', body, status: values.status });
  }

  return router;
}

function repositoryList(repositories: RepositoryInfo[], id: string, showOwner: boolean): Html {
  if (repositories.length === 0) return html`<ul class="list" id="${id}"></ul><div class="empty">No repositories yet.</div>`;
  return html`<ul class="list" id="${id}">${repositories.map(
    (info) => html`<li class="repository" data-repo="${info.owner}/${info.name}"><div class="grow">
<a class="title" href="${repoUrl(info)}">${showOwner ? `${info.owner}/` : ''}${info.name}</a> <span class="badge">${info.private ? 'Private' : 'Public'}</span>
${info.description ? html`<p class="description">${info.description}</p>` : ''}</div>
<span class="muted">created ${formatDate(info.createdAt)}</span></li>`,
  )}</ul>`;
}
