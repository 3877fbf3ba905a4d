/**
 * The web UI: server-rendered pages (GitHub's URLs and layout), no client framework; one small
 * script adds copy buttons and auto-submitting selects. Mounted by app.ts after the API and git
 * routes, behind the `authenticate` middleware.
 *
 * Stable hooks for browser tests (keep them; add, do not rename):
 *   layout     #site-header #home-link #sign-in-link #user-menu (summary[data-user]) #profile-link
 *              #tokens-link #new-repository-link #new-organization-link #logout-form #sign-out-button
 *              #main .flash #flash-error #flash-success #flash-warn
 *   sign-in    #login-form #login-username #login-password #login-submit
 *   dashboard  #dashboard-repositories #dashboard-organizations #new-repository-button
 *              #new-organization-button #explore-link; explore: #explore-repositories
 *              (li.repository[data-repo="owner/name"])
 *   owner      #owner-header[data-owner][data-kind=user|organization] #owner-repositories
 *              #user-organizations #org-members li[data-member] #org-teams li[data-team]
 *              #new-org-repository-button #org-people-link #org-teams-link #org-hooks-link
 *   org        #org-header[data-org] #org-tab-repositories #org-tab-people #org-tab-teams #org-tab-hooks
 *   people     #people-list li.member[data-member][data-role] .change-role-form .remove-member-form
 *              #add-member-form #member-name #member-role #add-member
 *   teams      #team-list li.team[data-team] #new-team-form #team-name #team-description #team-permission
 *              #team-all-repositories #create-team
 *   team       #team-header[data-team] #team-members li.member[data-member] .remove-team-member-form
 *              #add-team-member-form #team-member-name #add-team-member
 *              #team-repositories li.repository[data-repo] .remove-team-repository-form
 *              #add-team-repository-form #team-repository-name #add-team-repository
 *              #team-settings-form #team-settings-description #team-settings-permission
 *              #team-settings-all-repositories #save-team #delete-team-form #delete-team
 *   new repo   #new-repository-form #new-repo-owner #new-repo-name #new-repo-description
 *              #visibility-public #visibility-private #create-repository
 *   new org    #new-organization-form #org-name #org-full-name #org-description-input #create-organization
 *   repo       #repo-header[data-repo] #private-badge #repo-description
 *              #repo-tab-code #repo-tab-commits #repo-tab-branches #repo-tab-tags #repo-tab-settings
 *   code       #branch-form #branch-select #breadcrumb #history-link #latest-commit
 *              #file-list[data-ref][data-path] tr[data-path][data-type=tree|blob|commit] #parent-directory
 *              #readme[data-path] #readme-too-large #clone-box #clone-url #copy-clone-url #empty-repository
 *              (#file-list[data-truncated=true] when the directory has more entries than listed)
 *   file       #blob[data-path] #file-content (table[data-language] with td#L<n>[data-line];
 *              or .markdown-body[data-rendered]; or [data-binary]) #raw-link #plain-link #blob-history-link
 *   history    #commits-ref #commits-path #commit-list li.commit[data-oid] .commit-title
 *              #older-commits #newer-commits #newest-commits
 *   commit     #commit[data-oid] #commit-title #commit-message #commit-author #commit-sha
 *              #commit-parents a.parent #diff-stats #diff .diff-file[data-path][data-status]
 *              table.diff[data-language] (empty: shown plain) tr.add/tr.del/tr.context/tr.hunk .diff-too-large[data-reason=size|changes|budget]
 *   compare    #compare[data-base][data-head] #compare-status #compare-commits li.commit[data-oid], then the
 *              commit page's #diff-stats #diff
 *   refs       #branch-list / #tag-list li.ref[data-ref] #default-branch-badge .compare-link #pagination #next-page #previous-page
 *   settings   #repo-settings-form #settings-description #settings-default-branch
 *              #settings-visibility-public #settings-visibility-private #save-settings
 *              #collaborator-list li.collaborator[data-user] .remove-collaborator-form
 *              #add-collaborator-form #collaborator-name #collaborator-permission #add-collaborator
 *              #delete-repository-form #delete-confirm #delete-repository #hooks-settings-link
 *   webhooks   (a repository's, and an organisation's at /organizations/{org}/settings/hooks)
 *              #add-webhook #hook-list li.hook[data-hook-id] #hook-form #hook-url #hook-content-type
 *              #hook-secret #hook-clear-secret #hook-branch-filter #hook-events-all #hook-events-some
 *              #hook-event-push/-create/-delete/-status #hook-insecure-ssl #hook-active #save-hook
 *              #ping-hook #delete-hook #delivery-list li.delivery[data-delivery-id][data-guid][data-status]
 *              .delivery-status .redeliver-form
 *   tokens     #token-list li.token[data-token-id][data-token-name] .revoke-token-form
 *              #new-token-form #token-name #token-expires #token-scopes #scope-read-repository
 *              (#scope-<scope with ":" as "-">) #generate-token #new-token #new-token-value
 *   errors     #error-page[data-status]
 */
import { Router, type ErrorRequestHandler } from 'express';
import { httpStatusOf, refusalMessage, retryAfterHeader } from '../operations/errors.js';
import { noteRefusal } from '../request-log.js';
import type { ServerServices } from '../services.js';
import { accountPages } from './account-pages.js';
import { assetsRouter } from './assets.js';
import { codePages } from './code-pages.js';
import { comparePages } from './compare-pages.js';
import { historyPages } from './history-pages.js';
import { hooksPages } from './hooks-pages.js';
import { html } from './html.js';
import { loginUrl, sendPage } from './layout.js';
import { orgPages } from './org-pages.js';
import { sessionPages } from './session-pages.js';
import { settingsPages } from './settings-pages.js';
import { tokenPages } from './token-pages.js';
import { isLocalPath } from './urls.js';

export function webRouter(services: ServerServices): Router {
  const router = Router();
  // Fixed paths first: "/settings/tokens" and "/organizations/new" also look like owner/repo.
  router.use(assetsRouter());
  router.use(sessionPages(services));
  router.use(tokenPages(services));
  router.use(accountPages(services));
  router.use(orgPages(services));
  router.use(settingsPages(services));
  router.use(hooksPages(services));
  router.use(historyPages(services));
  router.use(comparePages(services));
  router.use(codePages(services));
  router.use(webErrors());
  return router;
}

/**
 * The status a refused page request gets; undefined for a server fault. A URL naming no valid
 * repository, owner, revision or path names nothing: 404, where the API would say 422.
 */
function statusOf(error: unknown): number | undefined {
  return httpStatusOf(error, { invalid: 404 });
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  403: 'Forbidden',
  404: 'Page not found',
  413: 'Request too large',
  422: 'Cannot do that',
  429: 'Too many requests',
  503: 'Unavailable for a moment',
};

/** Refusals as pages; "sign in first" as a redirect to the sign-in page that comes back here. */
function webErrors(): ErrorRequestHandler {
  return (error, req, res, next) => {
    const status = statusOf(error);
    if (status === undefined || res.headersSent) {
      next(error);
      return;
    }
    if (status === 401) {
      // After a refused form post, come back to the page the form was on.
      const back = req.method === 'GET' ? req.originalUrl : refererPath(req.get('Referer'));
      res.redirect(303, loginUrl(isLocalPath(back) ? back : '/'));
      return;
    }
    const title = TITLES[status] ?? 'Error';
    // A 404 says nothing more: a private repository's page must look like a missing one.
    noteRefusal(res, error);
    const message = status === 404 ? 'There is nothing here, or you may not see it.' : refusalMessage(error);
    res.set(retryAfterHeader(error));
    const body = html`<div id="error-page" data-status="${status}" class="error-box">
<h1>${status} · ${title}</h1><p>${message}</p><p><a href="/">Back to Gitfleet</a></p></div>`;
    sendPage(req, res, { title, body, status });
  };
}

function refererPath(referer: string | undefined): string {
  if (!referer) return '/';
  try {
    return new URL(referer).pathname;
  } catch {
    return '/';
  }
}
