import { Router, type Request, type Response } from 'express';
import { commitDiff, log, readCommit, type CommitInfo } from '@gitfleet/browse';
import type { Ref } from '@gitfleet/repository';
import { diffOptions } from '../browsing.js';
import { resolveRevision, resolveRevisionPath, type RevisionPath } from '../operations/revisions.js';
import type { ServerServices } from '../services.js';
import { firstLine } from './code-pages.js';
import { PAGE_DIFF_LIMITS, diffView } from './diff-view.js';
import { html, type Html } from './html.js';
import { formatDate, sendPage } from './layout.js';
import { historyPage, newerQuery, olderQuery, parsePosition } from './history-cursor.js';
import { PAGE_SIZE, pageNumber, pageOf, pager } from './pagination.js';
import { homeBranch, loadRepo, param, repoHeader, wildcard, type RepoContext } from './repo-context.js';
import { refUrl, repoUrl } from './urls.js';

/** History, one commit with its diff, branches and tags. */
export function historyPages(services: ServerServices): Router {
  const router = Router();

  router.get('/:owner/:repo/commits', async (req, res) => {
    const context = await loadRepo(services, req, 'read');
    const head = await homeBranch(context.repo);
    if (!head.commit) {
      sendPage(req, res, {
        title: 'Commits',
        body: html`${repoHeader(context, 'commits')}<div class="empty" id="commit-list">No commits yet.</div>`,
      });
      return;
    }
    await commitsPage(req, res, context, { ref: head.name, commit: head.commit, path: '' });
  });

  router.get('/:owner/:repo/commits/*rest', async (req, res) => {
    const context = await loadRepo(services, req, 'read');
    await commitsPage(req, res, context, await resolveRevisionPath(context.repo, wildcard(req, 'rest').join('/')));
  });

  router.get('/:owner/:repo/commit/:sha', async (req, res) => {
    const context = await loadRepo(services, req, 'read');
    // GitHub also takes a branch or tag name here: /commit/main.
    const oid = await resolveRevision(context.repo, param(req, 'sha'));
    const [commit, diff] = await Promise.all([
      readCommit(context.repo, oid),
      commitDiff(context.repo, oid, diffOptions(services.browsing, PAGE_DIFF_LIMITS)),
    ]);
    await commitPage(req, res, context, commit, await diffView(services, context, diff, { at: oid, what: 'commit' }));
  });

  router.get('/:owner/:repo/branches', async (req, res) => {
    const context = await loadRepo(services, req, 'read');
    const head = (await context.repo.refs.head()).replace(/^refs\/heads\//, '');
    const refs = await context.repo.refs.list('refs/heads/');
    // The default branch first, then by name.
    refs.sort((a, b) => Number(b.name === `refs/heads/${head}`) - Number(a.name === `refs/heads/${head}`));
    await refsPage(req, res, context, 'branches', refs, head);
  });

  router.get('/:owner/:repo/tags', async (req, res) => {
    const context = await loadRepo(services, req, 'read');
    const refs = await context.repo.refs.list('refs/tags/');
    // Newest versions first without reading a single tag object: v2.10 after v2.9.
    refs.sort((a, b) => b.name.localeCompare(a.name, 'en', { numeric: true }));
    await refsPage(req, res, context, 'tags', refs);
  });

  return router;
}

/**
 * One page of history. The whole history is paged by a cursor (history-cursor.ts) so that a
 * page walks one page only; a path's history (git's simplification, bounded by log's scan
 * limit) by page number.
 */
async function commitsPage(req: Request, res: Response, context: RepoContext, revision: RevisionPath): Promise<void> {
  const { repo } = context;
  const baseUrl = refUrl(repo.info, 'commits', revision.ref, revision.path);
  let commits: CommitInfo[];
  let olderUrl: string | undefined;
  let newerUrl: string | undefined;
  let restarted: boolean;
  if (revision.path) {
    const pageNo = pageNumber(req);
    const page = await log(repo, revision.commit, { limit: PAGE_SIZE, skip: (pageNo - 1) * PAGE_SIZE, path: revision.path });
    commits = page.commits;
    restarted = pageNo > 1;
    if (page.hasMore) olderUrl = `${baseUrl}?page=${pageNo + 1}`;
    if (pageNo > 1) newerUrl = pageNo === 2 ? baseUrl : `${baseUrl}?page=${pageNo - 1}`;
  } else {
    const position = parsePosition(req.query);
    const page = await historyPage(repo, revision.commit, position.cursor, PAGE_SIZE);
    commits = page.commits;
    restarted = position.cursor !== undefined;
    if (page.next) olderUrl = baseUrl + olderQuery(position, page.next);
    const newer = newerQuery(position);
    if (newer !== undefined) newerUrl = baseUrl + newer;
  }
  const info = repo.info;
  const groups: Html[] = [];
  let day = '';
  for (const commit of commits) {
    const commitDay = commit.committer.date.slice(0, 10);
    if (commitDay !== day) {
      day = commitDay;
      groups.push(html`<li class="commit-group">Commits on ${day}</li>`);
    }
    groups.push(commitRow(context, commit));
  }
  const body = html`${repoHeader(context, 'commits')}
<div class="page-head"><h1>Commits</h1><span class="badge" id="commits-ref">${revision.ref}</span>
${revision.path ? html`<span class="mono" id="commits-path">${revision.path}</span>` : ''}</div>
${commits.length === 0 ? html`<div class="empty">No commits${revision.path ? ' touch this path' : ''}.</div>` : ''}
<div class="box"><ul class="list" id="commit-list" data-ref="${revision.ref}">${groups}</ul></div>
<nav class="pagination" id="pagination">
${restarted ? html`<a class="btn" id="newest-commits" href="${baseUrl}">Newest</a>` : ''}
${newerUrl ? html`<a class="btn" id="newer-commits" rel="prev" href="${newerUrl}">Newer</a>` : ''}
${olderUrl ? html`<a class="btn" id="older-commits" rel="next" href="${olderUrl}">Older</a>` : ''}
</nav>`;
  sendPage(req, res, { title: `Commits · ${info.owner}/${info.name}`, body });
}

export function commitRow(context: RepoContext, commit: CommitInfo): Html {
  const info = context.repo.info;
  const url = repoUrl(info, 'commit', commit.oid);
  return html`<li class="commit" data-oid="${commit.oid}"><div class="grow">
<a class="title commit-title" href="${url}">${firstLine(commit.message)}</a>
<div class="muted"><strong>${commit.author.name}</strong> committed ${formatDate(commit.committer.date)}</div></div>
<a class="btn btn-small sha" href="${url}">${commit.oid.slice(0, 7)}</a>
<a class="btn btn-small" href="${refUrl(info, 'tree', commit.oid)}" title="Browse the repository at this point">Browse files</a></li>`;
}

async function commitPage(req: Request, res: Response, context: RepoContext, commit: CommitInfo, diff: Html): Promise<void> {
  const info = context.repo.info;
  const [title, ...rest] = commit.message.split('\n');
  const description = rest.join('\n').trim();
  const parents = commit.parents.map(
    (parent, index) =>
      html`${index > 0 ? ' + ' : ''}<a class="mono parent" href="${repoUrl(info, 'commit', parent)}">${parent.slice(0, 7)}</a>`,
  );
  const body = html`${repoHeader(context, 'commits')}
<div class="box" id="commit" data-oid="${commit.oid}"><div class="box-header"><h1 class="commit-heading" id="commit-title">${title}</h1>
<a class="btn btn-small push-right" href="${refUrl(info, 'tree', commit.oid)}">Browse files</a></div>
<div class="box-body">${description ? html`<pre class="commit-message" id="commit-message">${description}</pre>` : ''}
<div class="commit-meta">
<span class="muted">Author</span><span id="commit-author">${commit.author.name} &lt;${commit.author.email}&gt; · ${formatDate(commit.author.date)}</span>
${commit.committer.name !== commit.author.name || commit.committer.email !== commit.author.email ? html`<span class="muted">Committer</span><span>${commit.committer.name} &lt;${commit.committer.email}&gt; · ${formatDate(commit.committer.date)}</span>` : ''}
<span class="muted">Commit</span><span class="mono" id="commit-sha">${commit.oid}</span>
<span class="muted">${commit.parents.length === 1 ? 'Parent' : 'Parents'}</span><span id="commit-parents">${commit.parents.length === 0 ? 'none (root commit)' : parents}</span>
</div></div></div>
${diff}`;
  sendPage(req, res, { title: `${firstLine(commit.message)} · ${info.owner}/${info.name}@${commit.oid.slice(0, 7)}`, body });
}

/** Branches or tags, a page at a time: only the refs shown have their commits read. */
async function refsPage(
  req: Request,
  res: Response,
  context: RepoContext,
  kind: 'branches' | 'tags',
  refs: Ref[],
  defaultName?: string,
): Promise<void> {
  const { repo } = context;
  const info = repo.info;
  const prefix = kind === 'branches' ? 'refs/heads/' : 'refs/tags/';
  const page = pageNumber(req);
  const shown = pageOf(refs, page);
  const rows = await Promise.all(
    shown.items.map(async (ref) => {
      const name = ref.name.slice(prefix.length);
      const commit = await readCommit(repo, kind === 'tags' ? await resolveRevision(repo, ref.name) : ref.oid);
      return html`<li class="ref" data-ref="${name}"><div class="grow">
<a class="title" href="${refUrl(info, 'tree', name)}">${name}</a> ${name === defaultName ? html`<span class="badge" id="default-branch-badge">default</span>` : ''}
<div class="muted">${firstLine(commit.message)} · ${formatDate(commit.committer.date)}</div></div>
<a class="btn btn-small sha" href="${repoUrl(info, 'commit', commit.oid)}">${commit.oid.slice(0, 7)}</a>
<a class="btn btn-small" href="${refUrl(info, 'commits', name)}">History</a>
${kind === 'branches' && defaultName !== undefined && name !== defaultName ? html`<a class="btn btn-small compare-link" href="${repoUrl(info, 'compare', `${defaultName}...${name}`)}">Compare</a>` : ''}</li>`;
    }),
  );
  const title = kind === 'branches' ? 'Branches' : 'Tags';
  const body = html`${repoHeader(context, kind)}
<div class="page-head"><h1>${title}</h1><span class="muted">${refs.length}</span></div>
<div class="box">${refs.length === 0 ? html`<div class="empty">No ${kind} yet.</div>` : ''}<ul class="list" id="${kind === 'branches' ? 'branch-list' : 'tag-list'}">${rows}</ul></div>
${pager(req, page, shown.hasMore)}`;
  sendPage(req, res, { title: `${title} · ${info.owner}/${info.name}`, body });
}
