import { Router } from 'express';
import { compare, resolveRevision } from '@gitfleet/browse';
import { MAX_COMPARE_COMMITS, splitBasehead } from '../operations/compare.js';
import { diffOptions } from '../browsing.js';
import { HttpError } from '../http-errors.js';
import type { ServerServices } from '../services.js';
import { PAGE_DIFF_LIMITS, diffView } from './diff-view.js';
import { commitRow } from './history-pages.js';
import { html } from './html.js';
import { sendPage } from './layout.js';
import { loadRepo, repoHeader, wildcard } from './repo-context.js';

/**
 * GitHub's comparison page, /{owner}/{repo}/compare/{base}...{head}: head's commits that base
 * lacks, and the diff from their merge base to head (as GET /repos/…/compare answers).
 */
export function comparePages(services: ServerServices): Router {
  const router = Router();

  router.get('/:owner/:repo/compare/*basehead', async (req, res) => {
    const context = await loadRepo(services, req, 'read');
    const { repo } = context;
    const [baseName, headName] = splitBasehead(wildcard(req, 'basehead').join('/'));
    const [base, head] = await Promise.all([resolveRevision(repo, baseName), resolveRevision(repo, headName)]);
    const result = await compare(repo, base, head, {
      maxCommits: MAX_COMPARE_COMMITS,
      ...diffOptions(services.browsing, PAGE_DIFF_LIMITS),
    });
    if (result.mergeBase === undefined) {
      // A walk cut short at its bound has not proven that the histories share nothing.
      if (result.countsCapped) throw new HttpError(422, `${baseName} and ${headName} are too far apart to compare`);
      throw new HttpError(404, `no common ancestor between ${baseName} and ${headName}`);
    }
    const diff = await diffView(services, context, result.diff, { at: head, what: 'comparison' });
    const body = html`${repoHeader(context, 'commits')}
<div class="page-head" id="compare" data-base="${baseName}" data-head="${headName}"><h1>Comparing <span class="badge">${baseName}</span> ... <span class="badge">${headName}</span></h1></div>
<p class="muted" id="compare-status">${headName} is ${result.aheadBy}${result.countsCapped ? '+' : ''} ${result.aheadBy === 1 ? 'commit' : 'commits'} ahead of and
${result.behindBy}${result.countsCapped ? '+' : ''} behind ${baseName}.</p>
${result.commits.length === 0 ? html`<div class="empty">${baseName} has every commit of ${headName}.</div>` : ''}
<div class="box"><ul class="list" id="compare-commits">${result.commits.map((commit) => commitRow(context, commit))}</ul></div>
${diff}`;
    sendPage(req, res, { title: `Comparing ${baseName}...${headName} · ${repo.info.owner}/${repo.info.name}`, body });
  });

  return router;
}
