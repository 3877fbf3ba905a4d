import { Router, type Request, type Response } from 'express';
import { InvalidAccountInput, type Permission } from '@gitfleet/accounts';
import { InvalidRepositoryName, RepositoryExists } from '@gitfleet/repository';
import { HttpError } from '../http-errors.js';
import { changeRepository } from '../operations/change-repository.js';
import { deleteRepository } from '../operations/delete-repository.js';
import { BranchNotFound, CreationRefused, OwnerNotFound } from '../operations/errors.js';
import { transferRepository } from '../operations/transfer-repository.js';
import type { ServerServices } from '../services.js';
import { field, parseForm } from './forms.js';
import { html, type Html } from './html.js';
import { csrfField, flash, sendPage } from './layout.js';
import { loadRepo, param, repoHeader, requireSignedIn, type RepoContext } from './repo-context.js';
import { checkCsrf } from './session.js';
import { ownerUrl, repoUrl } from './urls.js';

const PERMISSIONS: Permission[] = ['read', 'write', 'admin'];

/** A repository's settings (admins only): description, visibility, default branch, collaborators, transfer, deletion. */
export function settingsPages(services: ServerServices): Router {
  const router = Router();
  const { accounts, registry } = services;

  const page = async (
    req: Request,
    res: Response,
    context: RepoContext,
    notice?: { kind: 'error' | 'success'; message: string; status?: number },
  ) => {
    const { repo } = context;
    const info = repo.info;
    const [head, branches, collaborators] = await Promise.all([
      repo.refs.head(),
      repo.refs.list('refs/heads/'),
      accounts.listCollaborators(info.id),
    ]);
    const action = (path: string) => repoUrl(info, 'settings', path);
    const branchNames = branches.map((ref) => ref.name.slice('refs/heads/'.length));
    const current = head.replace(/^refs\/heads\//, '');
    const body = html`${repoHeader(context, 'settings')}
<div class="page-head"><h1>Settings</h1><a class="btn" id="hooks-settings-link" href="${action('hooks')}">Webhooks</a></div>
${notice ? flash(notice.kind, notice.message) : ''}
<div class="box"><div class="box-header"><strong>General</strong></div><div class="box-body">
<form id="repo-settings-form" class="stacked" method="post" action="${repoUrl(info, 'settings')}">${csrfField(req)}
<label for="settings-description">Description</label>
<input type="text" id="settings-description" name="description" value="${info.description}">
<label for="settings-default-branch">Default branch</label>
<select id="settings-default-branch" name="default_branch">
${branchNames.includes(current) ? '' : html`<option value="${current}" selected>${current} (no commits yet)</option>`}
${branchNames.map((name) => html`<option value="${name}" ${name === current ? 'selected' : ''}>${name}</option>`)}</select>
<fieldset><legend>Visibility</legend>
<label class="check"><input type="radio" id="settings-visibility-public" name="visibility" value="public" ${info.private ? '' : 'checked'}> Public</label>
<label class="check"><input type="radio" id="settings-visibility-private" name="visibility" value="private" ${info.private ? 'checked' : ''}> Private</label></fieldset>
<div class="form-actions"><button type="submit" class="btn btn-primary" id="save-settings">Save</button></div></form></div></div>

<div class="box"><div class="box-header"><strong>Collaborators</strong></div>
<ul class="list" id="collaborator-list">${collaborators.map(
      ({
        user,
        permission,
      }) => html`<li class="collaborator" data-user="${user.name}"><a class="grow" href="${ownerUrl(user.name)}">${user.name}</a>
<form class="inline-form" method="post" action="${action('collaborators')}">${csrfField(req)}<input type="hidden" name="user" value="${user.name}">
${permissionSelect(permission, `collaborator-permission-${user.name}`)}<button type="submit" class="btn btn-small">Change</button></form>
<form class="inline-form remove-collaborator-form" method="post" action="${action(`collaborators/${encodeURIComponent(user.name)}/delete`)}">${csrfField(req)}
<button type="submit" class="btn btn-small btn-danger">Remove</button></form></li>`,
    )}</ul>${collaborators.length === 0 ? html`<div class="empty">No collaborators.</div>` : ''}
<div class="box-body"><form id="add-collaborator-form" method="post" action="${action('collaborators')}" class="toolbar flush">${csrfField(req)}
<input type="text" id="collaborator-name" name="user" placeholder="User name" required class="short-input">
${permissionSelect('write', 'collaborator-permission')}
<button type="submit" class="btn" id="add-collaborator">Add collaborator</button></form></div></div>

<div class="box danger-zone"><div class="box-header"><strong>Danger zone</strong></div><div class="box-body">
<form id="transfer-repository-form" class="stacked" method="post" action="${action('transfer')}">${csrfField(req)}
<p>Transferring the repository moves it to another user or an organisation you may create repositories under. Its collaborators keep their access; teams of its current organisation lose theirs.</p>
<label for="transfer-new-owner">New owner</label>
<input type="text" id="transfer-new-owner" name="new_owner" required autocomplete="off">
<label for="transfer-new-name">New name (optional)</label>
<input type="text" id="transfer-new-name" name="new_name" placeholder="${info.name}" autocomplete="off">
<label for="transfer-confirm">Type <code>${info.owner}/${info.name}</code> to confirm</label>
<input type="text" id="transfer-confirm" name="confirm" required autocomplete="off">
<div class="form-actions"><button type="submit" class="btn btn-danger" id="transfer-repository">Transfer this repository</button></div></form>
<form id="delete-repository-form" class="stacked" method="post" action="${action('delete')}">${csrfField(req)}
<p>Deleting the repository removes its branches, tags, collaborators and settings. It cannot be undone.</p>
<label for="delete-confirm">Type <code>${info.owner}/${info.name}</code> to confirm</label>
<input type="text" id="delete-confirm" name="confirm" required autocomplete="off">
<div class="form-actions"><button type="submit" class="btn btn-danger" id="delete-repository">Delete this repository</button></div></form></div></div>`;
    sendPage(req, res, { title: `Settings · ${info.owner}/${info.name}`, body, status: notice?.status });
  };

  router.get('/:owner/:repo/settings', async (req, res) => {
    await page(req, res, await loadRepo(services, req, 'admin'));
  });

  router.post('/:owner/:repo/settings', parseForm, async (req, res) => {
    const context = await loadRepo(services, req, 'admin');
    checkCsrf(req);
    const { repo } = context;
    const branch = field(req, 'default_branch');
    const visibility = field(req, 'visibility');
    const change = {
      description: field(req, 'description'),
      ...(visibility === 'public' || visibility === 'private' ? { private: visibility === 'private' } : {}),
      ...(branch !== '' ? { defaultBranch: branch } : {}),
    };
    let updated;
    try {
      updated = await changeRepository(registry, repo, change, 'when-unchanged');
    } catch (error) {
      if (error instanceof BranchNotFound)
        return page(req, res, context, { kind: 'error', message: `There is no branch ${branch}.`, status: 422 });
      throw error;
    }
    if (!updated) throw new HttpError(404, `repository ${repo.info.owner}/${repo.info.name} not found`);
    await page(req, res, { ...context, repo: updated }, { kind: 'success', message: 'Settings saved.' });
  });

  router.post('/:owner/:repo/settings/collaborators', parseForm, async (req, res) => {
    const context = await loadRepo(services, req, 'admin');
    checkCsrf(req);
    const name = field(req, 'user');
    const permission = field(req, 'permission') as Permission;
    if (!PERMISSIONS.includes(permission))
      return page(req, res, context, { kind: 'error', message: `Unknown permission ${permission}.`, status: 422 });
    const user = await accounts.getUser(name).catch((error: unknown) => {
      if (error instanceof InvalidAccountInput) return undefined;
      throw error;
    });
    if (!user) return page(req, res, context, { kind: 'error', message: `There is no user named ${name}.`, status: 422 });
    await accounts.setCollaborator(context.repo.info.id, user.name, permission);
    await page(req, res, context, { kind: 'success', message: `${user.name} now has ${permission} access.` });
  });

  router.post('/:owner/:repo/settings/collaborators/:user/delete', parseForm, async (req, res) => {
    const context = await loadRepo(services, req, 'admin');
    checkCsrf(req);
    await accounts.removeCollaborator(context.repo.info.id, param(req, 'user'));
    res.redirect(303, repoUrl(context.repo.info, 'settings'));
  });

  router.post('/:owner/:repo/settings/transfer', parseForm, async (req, res) => {
    const context = await loadRepo(services, req, 'admin');
    checkCsrf(req);
    const { repo } = context;
    const fullName = `${repo.info.owner}/${repo.info.name}`;
    const retry = (message: string) => page(req, res, context, { kind: 'error', message, status: 422 });
    if (field(req, 'confirm') !== fullName) return retry(`Type ${fullName} exactly to transfer the repository.`);
    const newOwner = field(req, 'new_owner');
    const newName = field(req, 'new_name');
    let moved;
    try {
      moved = await transferRepository(services, repo, {
        newOwner,
        newName: newName === '' ? undefined : newName,
        by: requireSignedIn(req).user,
      });
    } catch (error) {
      if (error instanceof OwnerNotFound) return retry(`There is no user or organization named ${newOwner}.`);
      if (error instanceof CreationRefused) return retry(`You may not create repositories under ${newOwner}.`);
      if (error instanceof InvalidRepositoryName || error instanceof RepositoryExists) return retry(error.message);
      throw error;
    }
    if (!moved) throw new HttpError(404, `repository ${fullName} not found`);
    res.redirect(303, repoUrl(moved.info));
  });

  router.post('/:owner/:repo/settings/delete', parseForm, async (req, res) => {
    const context = await loadRepo(services, req, 'admin');
    checkCsrf(req);
    const { info } = context.repo;
    if (field(req, 'confirm') !== `${info.owner}/${info.name}`) {
      return page(req, res, context, {
        kind: 'error',
        message: `Type ${info.owner}/${info.name} exactly to delete the repository.`,
        status: 422,
      });
    }
    await deleteRepository(services, info);
    res.redirect(303, ownerUrl(info.owner));
  });

  return router;
}

export function permissionSelect(selected: Permission, id: string): Html {
  return html`<select name="permission" id="${id}" aria-label="Permission" class="inline-select">${PERMISSIONS.map(
    (permission) => html`<option value="${permission}" ${permission === selected ? 'selected' : ''}>${permission}</option>`,
  )}</select>`;
}
