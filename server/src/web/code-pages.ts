import { Router, type Request, type Response } from 'express';
import {
  PathNotFound,
  findReadme,
  openFile,
  parseLfsPointer,
  readCommit,
  readFile,
  readTree,
  statPath,
  type TreeItem,
} from '@gitfleet/browse';
import type { Repository } from '@gitfleet/repository';
import { cloneUrl } from '../operations/clone-url.js';
import { resolveRevisionPath, type RevisionPath } from '../operations/revisions.js';
import type { ServerServices } from '../services.js';
import { languageFor } from './highlight.js';
import { html, type Html } from './html.js';
import { formatBytes } from '../format-bytes.js';
import { flash, formatDate, sendPage } from './layout.js';
import { homeBranch, loadRepo, param, repoHeader, wildcard, type RepoContext } from './repo-context.js';
import { lfsUsageBox } from './storage-views.js';
import { LfsFiles, lfsPointerAt } from './lfs-files.js';
import { sendRaw } from './raw-file.js';
import { refUrl, repoUrl } from './urls.js';

/** Branches shown in the selector; a repository with more lists them on /branches. */
const SELECTOR_REFS = 200;

/** Drawn inline: no icon font or emoji font needed, nothing more to load. */
const ICONS: Record<TreeItem['type'], Html> = {
  tree: html`<svg class="icon icon-tree" viewBox="0 0 16 16" width="16" height="16" aria-label="Directory"><path d="M1.75 2h4.5l1.5 2h6.5c.41 0 .75.34.75.75v8.5c0 .41-.34.75-.75.75H1.75A.75.75 0 0 1 1 13.25V2.75c0-.41.34-.75.75-.75Z"/></svg>`,
  blob: html`<svg class="icon icon-blob" viewBox="0 0 16 16" width="16" height="16" aria-label="File"><path d="M3.75 1.5h5.5l3.25 3.25v9.5a.25.25 0 0 1-.25.25h-8.5a.25.25 0 0 1-.25-.25V1.75a.25.25 0 0 1 .25-.25Z M9 1.5v3.5h3.5"/></svg>`,
  commit: html`<svg class="icon icon-commit" viewBox="0 0 16 16" width="16" height="16" aria-label="Submodule"><path d="M1.75 2h4.5l1.5 2h6.5c.41 0 .75.34.75.75v8.5c0 .41-.34.75-.75.75H1.75A.75.75 0 0 1 1 13.25V2.75c0-.41.34-.75.75-.75Z"/><path d="M8 7v4M6 9h4"/></svg>`,
};

/** Repository home, tree, blob and raw views. */
export function codePages(services: ServerServices): Router {
  const router = Router();
  const lfs = new LfsFiles(services);

  router.get('/:owner/:repo', async (req, res) => {
    const repoName = param(req, 'repo');
    if (repoName.toLowerCase().endsWith('.git')) {
      res.redirect(301, repoUrl({ owner: param(req, 'owner'), name: repoName.slice(0, -4) }));
      return;
    }
    const context = await loadRepo(services, req, 'read');
    const head = await homeBranch(context.repo);
    if (!head.commit) {
      sendPage(req, res, {
        title: `${context.repo.info.owner}/${context.repo.info.name}`,
        body: emptyRepository(services, req, context, head.name),
      });
      return;
    }
    await treePage(services, req, res, context, { ref: head.name, commit: head.commit, path: '' });
  });

  // A branch picked in the selector without JavaScript arrives as ?ref=… .
  router.get('/:owner/:repo/tree', async (req, res) => {
    const context = await loadRepo(services, req, 'read');
    const ref = typeof req.query.ref === 'string' && req.query.ref !== '' ? req.query.ref : (await homeBranch(context.repo)).name;
    const path = typeof req.query.path === 'string' ? req.query.path : '';
    res.redirect(303, refUrl(context.repo.info, 'tree', ref, path));
  });

  router.get('/:owner/:repo/tree/*rest', async (req, res) => {
    const context = await loadRepo(services, req, 'read');
    const revision = await resolveRevisionPath(context.repo, wildcard(req, 'rest').join('/'));
    if (revision.path !== '') {
      const entry = await statPath(context.repo, revision.commit, revision.path);
      if (entry.type === 'blob') {
        res.redirect(302, refUrl(context.repo.info, 'blob', revision.ref, revision.path));
        return;
      }
    }
    await treePage(services, req, res, context, revision);
  });

  router.get('/:owner/:repo/blob/*rest', async (req, res) => {
    const context = await loadRepo(services, req, 'read');
    const revision = await resolveRevisionPath(context.repo, wildcard(req, 'rest').join('/'));
    const entry = revision.path === '' ? undefined : await statPath(context.repo, revision.commit, revision.path);
    if (!entry || entry.type === 'tree') {
      res.redirect(302, refUrl(context.repo.info, 'tree', revision.ref, revision.path));
      return;
    }
    if (entry.type === 'commit') throw new PathNotFound(`${revision.path} is a submodule (commit ${entry.oid})`);
    await blobPage(services, req, res, context, revision, entry, lfs);
  });

  router.get('/:owner/:repo/raw/*rest', async (req, res) => {
    const context = await loadRepo(services, req, 'read');
    const revision = await resolveRevisionPath(context.repo, wildcard(req, 'rest').join('/'));
    const entry = await statPath(context.repo, revision.commit, revision.path);
    if (entry.type !== 'blob') throw new PathNotFound(`${revision.path} at ${revision.ref} is not a file`);
    await sendRaw(res, await openFile(context.repo, revision.commit, revision.path), revision.ref === revision.commit);
  });

  // A file Git LFS tracks: the object its pointer names; any other file: its raw bytes.
  router.get('/:owner/:repo/media/*rest', async (req, res) => {
    const context = await loadRepo(services, req, 'read');
    const revision = await resolveRevisionPath(context.repo, wildcard(req, 'rest').join('/'));
    const entry = await statPath(context.repo, revision.commit, revision.path);
    if (entry.type !== 'blob') throw new PathNotFound(`${revision.path} at ${revision.ref} is not a file`);
    const pointer = await lfsPointerAt(context.repo, revision.commit, entry);
    if (pointer) await lfs.sendObject(req, res, context.repo, revision.path, pointer);
    else await sendRaw(res, await openFile(context.repo, revision.commit, revision.path), revision.ref === revision.commit);
  });

  return router;
}

async function treePage(
  services: ServerServices,
  req: Request,
  res: Response,
  context: RepoContext,
  revision: RevisionPath,
): Promise<void> {
  const { repo } = context;
  const info = repo.info;
  const { treeMaxEntries } = services.config.browse;
  const [listing, readme, lastCommit, selector] = await Promise.all([
    readTree(repo, revision.commit, revision.path, { maxEntries: treeMaxEntries }),
    findReadme(repo, revision.commit, revision.path, { maxEntries: treeMaxEntries }),
    revision.path === '' ? readCommit(repo, revision.commit) : undefined,
    refSelector(repo, revision, 'tree'),
  ]);
  const entries = listing.entries;
  const rows = entries.map((entry) => {
    const icon = ICONS[entry.type];
    const link =
      entry.type === 'commit'
        ? html`<span>${entry.name} @ <span class="mono">${entry.oid.slice(0, 7)}</span></span>`
        : html`<a href="${refUrl(info, entry.type === 'tree' ? 'tree' : 'blob', revision.ref, entry.path)}">${entry.name}</a>`;
    return html`<tr data-path="${entry.path}" data-type="${entry.type}"><td class="icon">${icon}</td><td class="name">${link}</td><td class="size">${entry.size === undefined ? '' : formatBytes(entry.size)}</td></tr>`;
  });
  const parent = revision.path.includes('/') ? revision.path.slice(0, revision.path.lastIndexOf('/')) : '';
  const up =
    revision.path === ''
      ? ''
      : html`<tr data-path=".."><td class="icon"></td><td><a id="parent-directory" href="${refUrl(info, 'tree', revision.ref, parent)}">..</a></td><td></td></tr>`;
  const body = html`${repoHeader(context, 'code')}
<div class="columns"><div>
<div class="toolbar">${selector}${breadcrumb(context, revision)}
<span class="spacer"></span>
<a class="btn" id="history-link" href="${refUrl(info, 'commits', revision.ref, revision.path)}">History</a></div>
${
  lastCommit
    ? html`<div class="box"><div class="box-header" id="latest-commit"><strong>${lastCommit.author.name}</strong>
<a href="${repoUrl(info, 'commit', lastCommit.oid)}">${firstLine(lastCommit.message)}</a>
<span class="muted push-right"><a class="mono" href="${repoUrl(info, 'commit', lastCommit.oid)}">${lastCommit.oid.slice(0, 7)}</a> · ${formatDate(lastCommit.committer.date)}</span></div></div>`
    : ''
}
${listing.truncated ? flash('warn', `This directory has more than ${treeMaxEntries} entries: only the first ${treeMaxEntries} are shown.`) : ''}
<div class="box"><table class="files" id="file-list" data-ref="${revision.ref}" data-path="${revision.path}" data-truncated="${listing.truncated ? 'true' : 'false'}"><tbody>${up}${rows}</tbody></table>
${entries.length === 0 ? html`<div class="empty">This directory is empty.</div>` : ''}</div>
${readme ? await readmeBox(services, context, revision, readme) : ''}
</div>
<aside>${revision.path === '' ? html`${cloneBox(services, req, context)}${await lfsUsageBox(services, info.id)}` : ''}</aside></div>`;
  const title = revision.path === '' ? `${info.owner}/${info.name}` : `${info.name}/${revision.path} at ${revision.ref}`;
  sendPage(req, res, { title, body });
}

async function blobPage(
  services: ServerServices,
  req: Request,
  res: Response,
  context: RepoContext,
  revision: RevisionPath,
  entry: TreeItem,
  lfs: LfsFiles,
): Promise<void> {
  const { repo } = context;
  const info = repo.info;
  const { displayMaxBytes, renderMaxBytes } = services.config.browse;
  // The size first: a file too large to show is never read.
  const file =
    (entry.size ?? 0) > displayMaxBytes ? undefined : await readFile(repo, revision.commit, revision.path, { maxBytes: displayMaxBytes });
  const pointer = file && !file.binary ? parseLfsPointer(file.content) : undefined;
  const lfsView = pointer ? await lfs.view(repo, revision, pointer) : undefined;
  const size = pointer?.size ?? entry.size ?? 0;
  const rawLink = refUrl(info, 'raw', revision.ref, revision.path);
  const mediaLink = refUrl(info, 'media', revision.ref, revision.path);
  const isMarkdown = MARKDOWN.test(revision.path) && req.query.plain !== '1';
  const notice = (message: string, binary: boolean) =>
    html`<div class="blob-notice" id="file-content" data-binary="${binary ? 'true' : 'false'}">${message}, ${size} bytes. <a id="raw-link-notice" href="${rawLink}">View raw</a></div>`;
  let content: Html;
  let lineCount: number | undefined;
  const codeView = async (oid: string, text: Buffer) => {
    const language = size <= renderMaxBytes ? languageFor(revision.path) : undefined;
    const code = await services.browsing.render.codeRows(oid, text, language);
    lineCount = code?.lineCount;
    return code
      ? html`${size > renderMaxBytes ? html`<div class="flash flash-warn">Large file: shown without highlighting.</div>` : ''}
<table class="code" id="file-content" data-language="${language ?? ''}"${pointer ? html` data-lfs="true"` : ''}><tbody>${code.rows}</tbody></table>`
      : notice('file took too long to render', false);
  };
  if (lfsView) {
    content = 'notice' in lfsView ? lfsView.notice : await codeView(pointer!.oid, lfsView.text);
  } else if (!file || file.binary) {
    content = notice(file?.binary ? 'binary file' : 'file too large to display', file?.binary === true);
  } else if (isMarkdown && size <= renderMaxBytes) {
    const key = `${file.oid}:${info.owner}/${info.name}:${revision.ref}:${parentOf(revision.path)}`;
    const rendered = await services.browsing.render.markdown(key, file.content, parentOf(revision.path), {
      owner: info.owner,
      name: info.name,
      ref: revision.ref,
    });
    content = rendered
      ? html`<div class="markdown-body" id="file-content" data-rendered="markdown">${rendered}</div>`
      : notice('file took too long to render', false);
  } else {
    content = await codeView(file.oid, file.content);
  }
  const body = html`${repoHeader(context, 'code')}
<div class="toolbar">${await refSelector(repo, revision, 'blob')}${breadcrumb(context, revision)}</div>
<div class="box" id="blob" data-path="${revision.path}">
<div class="box-header"><span class="muted">${lineCount !== undefined ? `${lineCount} lines · ` : ''}${formatBytes(size)}${pointer ? html` · <span id="lfs-badge">Stored with Git LFS</span>` : ''}</span>
<span class="spacer"></span>
${isMarkdown && file && !file.binary && !pointer ? html`<a class="btn btn-small" id="plain-link" href="?plain=1">Code</a>` : ''}
${pointer ? html`<a class="btn btn-small" id="media-link" href="${mediaLink}">Download</a>` : ''}
<a class="btn btn-small" id="raw-link" href="${rawLink}">Raw</a>
<a class="btn btn-small" id="blob-history-link" href="${refUrl(info, 'commits', revision.ref, revision.path)}">History</a></div>
${content}</div>`;
  sendPage(req, res, { title: `${info.name}/${revision.path} at ${revision.ref}`, body });
}

const MARKDOWN = /\.(md|markdown|mdown|mkd)$/i;

/** The README under the listing: rendered up to the render limit, read only then; a larger one links to its raw bytes. */
async function readmeBox(services: ServerServices, context: RepoContext, revision: RevisionPath, readme: TreeItem): Promise<Html> {
  const info = context.repo.info;
  const { renderMaxBytes } = services.config.browse;
  const size = readme.size ?? 0;
  const rawLink = refUrl(info, 'raw', revision.ref, readme.path);
  const tooLarge = html`<p class="muted" id="readme-too-large">${readme.name} is too large to display (${formatBytes(size)}). <a href="${rawLink}">View raw</a></p>`;
  let rendered: Html;
  if (size > renderMaxBytes) {
    rendered = tooLarge;
  } else {
    const file = await readFile(context.repo, revision.commit, readme.path, { maxBytes: renderMaxBytes });
    // Links depend on where the README is shown from, so they are part of the key.
    const key = `${readme.oid}:${info.owner}/${info.name}:${revision.ref}:${revision.path}`;
    const markdown = MARKDOWN.test(readme.name)
      ? await services.browsing.render.markdown(key, file.content, revision.path, { owner: info.owner, name: info.name, ref: revision.ref })
      : html`<pre>${file.content.toString('utf8')}</pre>`;
    rendered =
      markdown ??
      html`<p class="muted" id="readme-too-large">${readme.name} took too long to render. <a href="${rawLink}">View raw</a></p>`;
  }
  return html`<div class="box" id="readme" data-path="${readme.path}"><div class="box-header"><strong>${readme.name}</strong></div>
<div class="markdown-body">${rendered}</div></div>`;
}

function parentOf(path: string): string {
  return path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
}

function breadcrumb(context: RepoContext, revision: RevisionPath): Html {
  const info = context.repo.info;
  const parts = revision.path === '' ? [] : revision.path.split('/');
  const crumbs = parts.map((part, index) => {
    const isLast = index === parts.length - 1;
    const path = parts.slice(0, index + 1).join('/');
    return html`<span class="sep">/</span>${isLast ? html`<strong>${part}</strong>` : html`<a href="${refUrl(info, 'tree', revision.ref, path)}">${part}</a>`}`;
  });
  return html`<span class="breadcrumb" id="breadcrumb"><a href="${refUrl(info, 'tree', revision.ref)}">${info.name}</a>${crumbs}</span>`;
}

/**
 * The branch selector (names straight from the ref store). Tags are not listed: a repository
 * may have thousands, which the Tags tab pages through. It submits to /tree?ref=…&path=…:
 * JavaScript submits on change, without it a button does.
 */
async function refSelector(repo: Repository, revision: RevisionPath, view: 'tree' | 'blob'): Promise<Html> {
  const branches = await repo.refs.list('refs/heads/');
  const branchNames = branches.slice(0, SELECTOR_REFS).map((ref) => ref.name.slice('refs/heads/'.length));
  const option = (name: string) => html`<option value="${name}" ${name === revision.ref ? 'selected' : ''}>${name}</option>`;
  const label = /^[0-9a-f]{40,64}$/.test(revision.ref) ? revision.ref.slice(0, 7) : revision.ref;
  // /tree?ref=…&path=… redirects to the blob view when the path is a file there.
  return html`<form id="branch-form" method="get" action="${repoUrl(repo.info, 'tree')}" class="inline-form" data-view="${view}">
<input type="hidden" name="path" value="${revision.path}">
<select id="branch-select" name="ref" data-autosubmit aria-label="Branch">
${branchNames.includes(revision.ref) ? '' : html`<option value="${revision.ref}" selected>${label}</option>`}
<optgroup label="Branches">${branchNames.map(option)}</optgroup>
</select><noscript><button class="btn btn-small" type="submit">Go</button></noscript></form>`;
}

function cloneBox(services: ServerServices, req: Request, context: RepoContext): Html {
  const url = cloneUrl(services.baseUrl(req), context.repo.info.owner, context.repo.info.name);
  return html`<div class="box" id="clone-box"><div class="box-header"><strong>Clone</strong> <span class="muted">HTTPS</span></div>
<div class="box-body clone-box"><input type="text" id="clone-url" readonly value="${url}" aria-label="Clone URL">
<button type="button" class="btn btn-small" id="copy-clone-url" data-copy="${url}">Copy</button></div></div>`;
}

function emptyRepository(services: ServerServices, req: Request, context: RepoContext, branch: string): Html {
  const url = cloneUrl(services.baseUrl(req), context.repo.info.owner, context.repo.info.name);
  return html`${repoHeader(context, 'code')}
<div class="box" id="empty-repository"><div class="box-header"><strong>This repository is empty.</strong></div><div class="box-body">
<div class="clone-box"><input type="text" id="clone-url" readonly value="${url}" aria-label="Clone URL">
<button type="button" class="btn btn-small" id="copy-clone-url" data-copy="${url}">Copy</button></div>
<h3>Push an existing repository</h3>
<pre class="mono">git remote add origin ${url}
git push -u origin ${branch}</pre>
<h3>Or start a new one</h3>
<pre class="mono">git clone ${url}</pre>
</div></div>`;
}

export function firstLine(message: string): string {
  const line = message.split('\n', 1)[0];
  return line.length > 100 ? `${line.slice(0, 97)}…` : line;
}
