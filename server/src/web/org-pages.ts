import { Router, type Request, type Response } from 'express';
import {
  AccountConflict,
  InvalidAccountInput,
  MAX_TEAM_DESCRIPTION_LENGTH,
  PERMISSIONS,
  type AccountStore,
  type Actor,
  type Organization,
  type OrgRole,
  type Permission,
  type Team,
  type User,
} from '@gitfleet/accounts';
import { InvalidRepositoryName, type RepositoryInfo } from '@gitfleet/repository';
import { HttpError } from '../http-errors.js';
import { teamRepositories } from '../operations/team-repositories.js';
import { readableRepositories } from '../operations/readable-repositories.js';
import type { ServerServices } from '../services.js';
import { checked, field, parseForm } from './forms.js';
import { html, type Html } from './html.js';
import { csrfField, flash, sendPage } from './layout.js';
import { PAGE_SIZE, pageNumber, pageOf, pager } from './pagination.js';
import { param, requireSignedIn } from './repo-context.js';
import { checkCsrf } from './session.js';
import { permissionSelect } from './settings-pages.js';
import { ownerUrl, repoUrl } from './urls.js';

const ROLES: OrgRole[] = ['member', 'owner'];

/** The organisation of the URL and what the visitor may do in it. */
export interface OrgContext {
  org: Organization;
  actor: Actor;
  /** May change members, teams and hooks: an owner of the organisation or a site administrator. */
  administers: boolean;
}

type Notice = { kind: 'error' | 'success'; message: string; status?: number };

/**
 * What the page says when the accounts refuse a change: a conflict (the last owner would be
 * lost) is 409, input they do not take (a description over its bound) 422, as the API answers.
 * Any other error is thrown on.
 */
function refusalOf(error: unknown): Notice {
  if (error instanceof AccountConflict) return { kind: 'error', message: error.message, status: 409 };
  if (error instanceof InvalidAccountInput) return { kind: 'error', message: error.message, status: 422 };
  throw error;
}

/** /orgs/{org}/people… and /orgs/{org}/teams…: like the API, for members to see and owners to change. */
export function orgUrl(org: string, ...rest: string[]): string {
  return `/orgs/${[org, ...rest].map(encodeURIComponent).join('/')}`;
}

/**
 * The organisation named by `:org`, for a signed-in member of it (`needed` 'owner': for one who
 * may administer it); 403 for anyone else, as the API answers. Its existence is no secret: its
 * page is public.
 */
export async function loadOrg(services: ServerServices, req: Request, needed: 'member' | 'owner'): Promise<OrgContext> {
  const actor = requireSignedIn(req);
  const name = param(req, 'org');
  const org = await services.accounts.getOrganization(name);
  if (!org) throw new HttpError(404, `organization ${name} not found`);
  const administers = await services.accounts.mayAdministerOrganization(actor.user, org.name);
  if (needed === 'owner' && !administers) throw new HttpError(403, `only owners of organization ${org.name} may do this`);
  if (!administers && !(await services.accounts.maySeeOrganizationMembers(actor.user, org.name))) {
    throw new HttpError(403, `only members of organization ${org.name} may see this`);
  }
  return { org, actor, administers };
}

export type OrgTab = 'people' | 'teams' | 'hooks';

export function orgHeader(context: OrgContext, selected: OrgTab): Html {
  const { org } = context;
  const tab = (name: OrgTab | 'repositories', label: string, href: string) =>
    html`<a id="org-tab-${name}" class="${name === selected ? 'selected' : ''}" href="${href}">${label}</a>`;
  return html`<div id="org-header" data-org="${org.name}">
<h1><a href="${ownerUrl(org.name)}">${org.fullName || org.name}</a> <span class="badge">Organization</span></h1>
<nav class="tabs">
${tab('repositories', 'Repositories', ownerUrl(org.name))}
${tab('people', 'People', orgUrl(org.name, 'people'))}
${tab('teams', 'Teams', orgUrl(org.name, 'teams'))}
${context.administers ? tab('hooks', 'Webhooks', orgHooksUrl(org.name)) : ''}
</nav></div>`;
}

/** Where an organisation's webhooks are managed (GitHub's URL). */
export function orgHooksUrl(org: string): string {
  return `/organizations/${encodeURIComponent(org)}/settings/hooks`;
}

/** An organisation's people and teams: members with their roles, teams with their members and repositories. */
export function orgPages(services: ServerServices): Router {
  const router = Router();
  const { accounts, registry } = services;

  /** A user named in a form; undefined when there is none (the form says so). */
  const namedUser = (name: string) =>
    accounts.getUser(name).catch((error: unknown) => {
      if (error instanceof InvalidAccountInput) return undefined;
      throw error;
    });

  const peoplePage = async (req: Request, res: Response, context: OrgContext, notice?: Notice) => {
    const { org, actor, administers } = context;
    const members = await accounts.listMembers(org.name);
    const page = pageNumber(req);
    const shown = pageOf(members, page);
    const action = (...rest: string[]) => orgUrl(org.name, 'people', ...rest);
    const body = html`${orgHeader(context, 'people')}
<div class="page-head"><h1>People</h1><span class="muted">${members.length}</span></div>
${notice ? flash(notice.kind, notice.message) : ''}
<div class="box"><ul class="list" id="people-list">${shown.items.map(({ user, role }) => {
      const self = user.name.toLowerCase() === actor.user.name.toLowerCase();
      return html`<li class="member" data-member="${user.name}" data-role="${role}"><a class="grow" href="${ownerUrl(user.name)}">${user.name}</a>
${
  administers
    ? html`<form class="inline-form change-role-form" method="post" action="${action()}">${csrfField(req)}<input type="hidden" name="user" value="${user.name}">
${roleSelect(role, `member-role-${user.name}`)}<button type="submit" class="btn btn-small">Change</button></form>`
    : html`<span class="badge">${role}</span>`
}
${
  administers || self
    ? html`<form class="inline-form remove-member-form" method="post" action="${action(user.name, 'delete')}">${csrfField(req)}
<button type="submit" class="btn btn-small btn-danger">${self ? 'Leave' : 'Remove'}</button></form>`
    : ''
}</li>`;
    })}</ul></div>${pager(req, page, shown.hasMore)}
${
  administers
    ? html`<div class="box"><div class="box-header"><strong>Add a member</strong></div>
<div class="box-body"><form id="add-member-form" method="post" action="${action()}" class="toolbar flush">${csrfField(req)}
<input type="text" id="member-name" name="user" placeholder="User name" required class="short-input">
${roleSelect('member', 'member-role')}
<button type="submit" class="btn" id="add-member">Add member</button></form></div></div>`
    : ''
}`;
    sendPage(req, res, { title: `People · ${org.name}`, body, status: notice?.status });
  };

  router.get('/orgs/:org/people', async (req, res) => {
    await peoplePage(req, res, await loadOrg(services, req, 'member'));
  });

  router.post('/orgs/:org/people', parseForm, async (req, res) => {
    const context = await loadOrg(services, req, 'owner');
    checkCsrf(req);
    const name = field(req, 'user');
    const role = field(req, 'role') as OrgRole;
    if (!ROLES.includes(role)) return peoplePage(req, res, context, { kind: 'error', message: `Unknown role ${role}.`, status: 422 });
    const user = await namedUser(name);
    if (!user) return peoplePage(req, res, context, { kind: 'error', message: `There is no user named ${name}.`, status: 422 });
    try {
      await accounts.setMember(context.org.name, user.name, role);
    } catch (error) {
      return peoplePage(req, res, context, refusalOf(error));
    }
    await peoplePage(req, res, context, {
      kind: 'success',
      message: `${user.name} is now ${role === 'owner' ? 'an owner' : 'a member'} of ${context.org.name}.`,
    });
  });

  router.post('/orgs/:org/people/:user/delete', parseForm, async (req, res) => {
    const name = param(req, 'user');
    // A member may leave; only owners remove others (as DELETE /orgs/{org}/members/{username}).
    const leaving = requireSignedIn(req).user.name.toLowerCase() === name.toLowerCase();
    const context = await loadOrg(services, req, leaving ? 'member' : 'owner');
    checkCsrf(req);
    try {
      await accounts.removeMember(context.org.name, name);
    } catch (error) {
      return peoplePage(req, res, context, refusalOf(error));
    }
    res.redirect(303, leaving ? '/' : orgUrl(context.org.name, 'people'));
  });

  const teamsPage = async (
    req: Request,
    res: Response,
    context: OrgContext,
    values: { name?: string; description?: string; error?: string } = {},
  ) => {
    const { org, administers } = context;
    const teams = await accounts.listTeams(org.name);
    const page = pageNumber(req);
    const shown = pageOf(teams, page);
    const body = html`${orgHeader(context, 'teams')}
<div class="page-head"><h1>Teams</h1><span class="muted">${teams.length}</span></div>
${values.error ? flash('error', values.error) : ''}
<div class="box"><ul class="list" id="team-list">${shown.items.map(
      (
        team,
      ) => html`<li class="team" data-team="${team.name}"><div class="grow"><a class="title" href="${teamUrl(team)}">${team.name}</a> <span class="badge">${team.permission}</span>
${team.includesAllRepositories ? html`<span class="badge">all repositories</span>` : ''}
${team.description ? html`<p class="description">${team.description}</p>` : ''}</div></li>`,
    )}</ul>${teams.length === 0 ? html`<div class="empty">No teams yet.</div>` : ''}</div>${pager(req, page, shown.hasMore)}
${
  administers
    ? html`<div class="box"><div class="box-header"><strong>New team</strong></div><div class="box-body">
<form id="new-team-form" class="stacked" method="post" action="${orgUrl(org.name, 'teams')}">${csrfField(req)}
<label for="team-name">Team name</label>
<input type="text" id="team-name" name="name" value="${values.name ?? ''}" required maxlength="100">
<label for="team-description">Description <span class="hint">(optional)</span></label>
<input type="text" id="team-description" name="description" value="${values.description ?? ''}" maxlength="${MAX_TEAM_DESCRIPTION_LENGTH}">
<label for="team-permission">Permission on the team's repositories</label>
${permissionSelect('read', 'team-permission')}
<label class="check"><input type="checkbox" id="team-all-repositories" name="includes_all_repositories" value="1"> Every repository of the organization</label>
<div class="form-actions"><button type="submit" class="btn btn-primary" id="create-team">Create team</button></div></form></div></div>`
    : ''
}`;
    sendPage(req, res, { title: `Teams · ${org.name}`, body, status: values.error ? 422 : 200 });
  };

  router.get('/orgs/:org/teams', async (req, res) => {
    await teamsPage(req, res, await loadOrg(services, req, 'member'));
  });

  router.post('/orgs/:org/teams', parseForm, async (req, res) => {
    const context = await loadOrg(services, req, 'owner');
    checkCsrf(req);
    const values = { name: field(req, 'name'), description: field(req, 'description') };
    const permission = formPermission(req);
    if (!permission) return teamsPage(req, res, context, { ...values, error: `Unknown permission ${field(req, 'permission')}.` });
    try {
      const team = await accounts.createTeam(context.org.name, {
        ...values,
        permission,
        includesAllRepositories: checked(req, 'includes_all_repositories'),
      });
      res.redirect(303, teamUrl(team));
    } catch (error) {
      if (error instanceof AccountConflict || error instanceof InvalidAccountInput)
        return teamsPage(req, res, context, { ...values, error: error.message });
      throw error;
    }
  });

  /** The team of the URL in the visitor's organisation context. */
  const loadTeam = async (req: Request, needed: 'member' | 'owner'): Promise<{ context: OrgContext; team: Team }> => {
    const context = await loadOrg(services, req, needed);
    const name = param(req, 'team');
    const team = await accounts.getTeam(context.org.name, name);
    if (!team) throw new HttpError(404, `team ${name} not found in organization ${context.org.name}`);
    return { context, team };
  };

  const teamPage = async (req: Request, res: Response, context: OrgContext, team: Team, notice?: Notice) => {
    const { administers, actor } = context;
    const [members, covered] = await Promise.all([accounts.listTeamMembers(team.org, team.name), teamRepositories(services, team)]);
    const membersPage = pageNumber(req, 'members');
    const shownMembers = pageOf(members, membersPage);
    const repositoriesPage = pageNumber(req, 'repositories');
    // Every member reads the organisation's repositories, so their number is no secret; the rows
    // shown are checked all the same, a page at a time, except for those who administer it.
    const shownRepositories = administers
      ? pageOf(covered, repositoriesPage)
      : await readablePage(accounts, actor.user, covered, repositoriesPage);
    const action = (...rest: string[]) => teamUrl(team, ...rest);
    const body = html`${orgHeader(context, 'teams')}
<div class="page-head" id="team-header" data-team="${team.name}"><h1>${team.name}</h1><span class="badge" id="team-permission-badge">${team.permission}</span></div>
${team.description ? html`<p class="muted" id="team-description-text">${team.description}</p>` : ''}
${notice ? flash(notice.kind, notice.message) : ''}
<div class="box"><div class="box-header"><strong>Members</strong> <span class="muted">${members.length}</span></div>
<ul class="list" id="team-members">${shownMembers.items.map(
      (user) => html`<li class="member" data-member="${user.name}"><a class="grow" href="${ownerUrl(user.name)}">${user.name}</a>
${
  administers
    ? html`<form class="inline-form remove-team-member-form" method="post" action="${action('members', user.name, 'delete')}">${csrfField(req)}
<button type="submit" class="btn btn-small btn-danger">Remove</button></form>`
    : ''
}</li>`,
    )}</ul>${members.length === 0 ? html`<div class="empty">No members.</div>` : ''}${pager(req, membersPage, shownMembers.hasMore, { list: 'members', path: teamUrl(team) })}
${
  administers
    ? html`<div class="box-body"><form id="add-team-member-form" method="post" action="${action('members')}" class="toolbar flush">${csrfField(req)}
<input type="text" id="team-member-name" name="user" placeholder="User name" required class="short-input">
<button type="submit" class="btn" id="add-team-member">Add member</button></form></div>`
    : ''
}</div>

<div class="box"><div class="box-header"><strong>Repositories</strong> <span class="muted">${covered.length}</span>
${team.includesAllRepositories ? html`<span class="badge">all repositories of ${team.org}</span>` : ''}</div>
<ul class="list" id="team-repositories">${shownRepositories.items.map(
      (
        info,
      ) => html`<li class="repository" data-repo="${info.owner}/${info.name}"><a class="grow title" href="${repoUrl(info)}">${info.name}</a>
${
  administers && !team.includesAllRepositories
    ? html`<form class="inline-form remove-team-repository-form" method="post" action="${action('repositories', info.name, 'delete')}">${csrfField(req)}
<button type="submit" class="btn btn-small btn-danger">Remove</button></form>`
    : ''
}</li>`,
    )}</ul>${shownRepositories.items.length === 0 && repositoriesPage === 1 ? html`<div class="empty">No repositories.</div>` : ''}${pager(req, repositoriesPage, shownRepositories.hasMore, { list: 'repositories', path: teamUrl(team) })}
${
  administers && !team.includesAllRepositories
    ? html`<div class="box-body"><form id="add-team-repository-form" method="post" action="${action('repositories')}" class="toolbar flush">${csrfField(req)}
<input type="text" id="team-repository-name" name="repository" placeholder="Repository of ${team.org}" required class="short-input">
<button type="submit" class="btn" id="add-team-repository">Add repository</button></form></div>`
    : ''
}</div>
${administers ? teamSettings(req, team) : ''}`;
    sendPage(req, res, { title: `${team.name} · ${team.org}`, body, status: notice?.status });
  };

  router.get('/orgs/:org/teams/:team', async (req, res) => {
    const { context, team } = await loadTeam(req, 'member');
    await teamPage(req, res, context, team);
  });

  router.post('/orgs/:org/teams/:team', parseForm, async (req, res) => {
    const { context, team } = await loadTeam(req, 'owner');
    checkCsrf(req);
    const permission = formPermission(req);
    if (!permission)
      return teamPage(req, res, context, team, { kind: 'error', message: `Unknown permission ${field(req, 'permission')}.`, status: 422 });
    let updated: Team;
    try {
      updated = await accounts.updateTeam(team.org, team.name, {
        description: field(req, 'description'),
        permission,
        includesAllRepositories: checked(req, 'includes_all_repositories'),
      });
    } catch (error) {
      return teamPage(req, res, context, team, refusalOf(error));
    }
    await teamPage(req, res, context, updated, { kind: 'success', message: 'Team saved.' });
  });

  router.post('/orgs/:org/teams/:team/delete', parseForm, async (req, res) => {
    const { context, team } = await loadTeam(req, 'owner');
    checkCsrf(req);
    await accounts.deleteTeam(team.org, team.name);
    res.redirect(303, orgUrl(context.org.name, 'teams'));
  });

  router.post('/orgs/:org/teams/:team/members', parseForm, async (req, res) => {
    const { context, team } = await loadTeam(req, 'owner');
    checkCsrf(req);
    const name = field(req, 'user');
    const user = await namedUser(name);
    if (!user) return teamPage(req, res, context, team, { kind: 'error', message: `There is no user named ${name}.`, status: 422 });
    // As the API: a user who is not yet a member of the organisation becomes one.
    await accounts.addTeamMember(team.org, team.name, user.name);
    await teamPage(req, res, context, team, { kind: 'success', message: `${user.name} is now in team ${team.name}.` });
  });

  router.post('/orgs/:org/teams/:team/members/:user/delete', parseForm, async (req, res) => {
    const { team } = await loadTeam(req, 'owner');
    checkCsrf(req);
    await accounts.removeTeamMember(team.org, team.name, param(req, 'user'));
    res.redirect(303, teamUrl(team));
  });

  /** A repository of the team's organisation by name; only its own are looked at, so no other owner's repository is revealed. */
  const orgRepository = (team: Team, name: string) =>
    registry.open(team.org, name).catch((error: unknown) => {
      if (error instanceof InvalidRepositoryName) return undefined;
      throw error;
    });

  router.post('/orgs/:org/teams/:team/repositories', parseForm, async (req, res) => {
    const { context, team } = await loadTeam(req, 'owner');
    checkCsrf(req);
    const name = field(req, 'repository');
    const repo = await orgRepository(team, name);
    if (!repo)
      return teamPage(req, res, context, team, { kind: 'error', message: `There is no repository ${team.org}/${name}.`, status: 422 });
    await accounts.addTeamRepository(team.org, team.name, repo.info.id);
    await teamPage(req, res, context, team, {
      kind: 'success',
      message: `Team ${team.name} now has ${team.permission} access to ${repo.info.name}.`,
    });
  });

  router.post('/orgs/:org/teams/:team/repositories/:repo/delete', parseForm, async (req, res) => {
    const { team } = await loadTeam(req, 'owner');
    checkCsrf(req);
    const repo = await orgRepository(team, param(req, 'repo'));
    if (!repo) throw new HttpError(404, `repository ${team.org}/${param(req, 'repo')} not found`);
    await accounts.removeTeamRepository(team.org, team.name, repo.info.id);
    res.redirect(303, teamUrl(team));
  });

  return router;
}

/** Batches of access checks run together while filling a page of readable repositories. */
const ACCESS_CHECK_BATCH = PAGE_SIZE;

/**
 * The `page`th page of the repositories among `infos` that `user` may read. Access is checked
 * in order, a batch at a time, only until the page and one more are found: a team covering
 * thousands of repositories costs a page's worth of checks on its first page, not thousands.
 */
async function readablePage(
  accounts: AccountStore,
  user: User,
  infos: readonly RepositoryInfo[],
  page: number,
): Promise<{ items: RepositoryInfo[]; hasMore: boolean }> {
  const wanted = page * PAGE_SIZE + 1;
  const readable: RepositoryInfo[] = [];
  for (let start = 0; start < infos.length && readable.length < wanted; start += ACCESS_CHECK_BATCH) {
    readable.push(...(await readableRepositories(accounts, user, infos.slice(start, start + ACCESS_CHECK_BATCH))).map(({ info }) => info));
  }
  return pageOf(readable, page);
}

function teamUrl(team: Team, ...rest: string[]): string {
  return orgUrl(team.org, 'teams', team.name, ...rest);
}

function formPermission(req: Request): Permission | undefined {
  const permission = field(req, 'permission') as Permission;
  return PERMISSIONS.includes(permission) ? permission : undefined;
}

function roleSelect(selected: OrgRole, id: string): Html {
  return html`<select name="role" id="${id}" aria-label="Role" class="inline-select">${ROLES.map(
    (role) => html`<option value="${role}" ${role === selected ? 'selected' : ''}>${role}</option>`,
  )}</select>`;
}

function teamSettings(req: Request, team: Team): Html {
  return html`<div class="box"><div class="box-header"><strong>Settings</strong></div><div class="box-body">
<form id="team-settings-form" class="stacked" method="post" action="${teamUrl(team)}">${csrfField(req)}
<label for="team-settings-description">Description</label>
<input type="text" id="team-settings-description" name="description" value="${team.description}" maxlength="${MAX_TEAM_DESCRIPTION_LENGTH}">
<label for="team-settings-permission">Permission on the team's repositories</label>
${permissionSelect(team.permission, 'team-settings-permission')}
<label class="check"><input type="checkbox" id="team-settings-all-repositories" name="includes_all_repositories" value="1" ${team.includesAllRepositories ? 'checked' : ''}> Every repository of the organization</label>
<div class="form-actions"><button type="submit" class="btn btn-primary" id="save-team">Save</button></div></form></div></div>
<div class="box danger-zone"><div class="box-header"><strong>Danger zone</strong></div><div class="box-body">
<form id="delete-team-form" method="post" action="${teamUrl(team, 'delete')}" data-confirm="Delete team ${team.name}?">${csrfField(req)}
<button type="submit" class="btn btn-danger" id="delete-team">Delete this team</button></form></div></div>`;
}
