import type { DiffResult, FileDiff } from '@gitfleet/browse';
import type { ObjectId } from '@gitfleet/git-format';
import type { ServerServices } from '../services.js';
import { highlightDiff } from './diff-highlight.js';
import { languageFor } from './highlight.js';
import { html, raw, type Html } from './html.js';
import { flash } from './layout.js';
import type { RepoContext } from './repo-context.js';
import { refUrl } from './urls.js';

/** What one diff page shows at most (with the configured budget); the rest is summed up in notices. */
export const PAGE_DIFF_LIMITS = { maxFiles: 300, maxFileBytes: 1024 * 1024 };

/** Why a file's diff is not shown; its line counts are unknown then (not diffed, or given up). */
const NOT_RENDERED: Record<NonNullable<FileDiff['tooLargeReason']>, (what: string) => string> = {
  size: () => ': the file is too large',
  changes: () => ': too many lines changed',
  budget: (what) => `: the diff of this ${what} is too large to show whole`,
};

export interface DiffViewOptions {
  /** The commit whose files "View file" opens. */
  at: ObjectId;
  /** What the page shows the diff of, in its notices: "commit", "comparison". */
  what: string;
}

/**
 * A diff as the commit and compare pages show it: its stats, notices when it was cut short,
 * and each file's hunks, highlighted in the file's language when within the bounds (diff-highlight.ts).
 */
export async function diffView(services: ServerServices, context: RepoContext, diff: DiffResult, options: DiffViewOptions): Promise<Html> {
  const highlighted = await highlightDiff(services.browsing.render, diff.files, services.config.browse.renderMaxBytes);
  return html`<p class="diff-stats" id="diff-stats">Showing <strong>${diff.files.length} changed ${diff.files.length === 1 ? 'file' : 'files'}</strong> with
<span class="additions">${diff.additions} additions</span> and <span class="deletions">${diff.deletions} deletions</span>.</p>
${diff.truncated ? flash('warn', `This ${options.what} changes more files than shown here (the first ${diff.files.length}).`) : ''}
${diff.budgetExhausted ? flash('warn', 'This diff is too large to show whole: some files are not rendered.') : ''}
<div id="diff">${diff.files.map((file) => fileDiff(context, options, file, highlighted.get(file)))}</div>`;
}

/** One file of a diff; `highlighted` holds its hunks' lines as HTML when it was highlighted. */
function fileDiff(context: RepoContext, options: DiffViewOptions, file: FileDiff, highlighted?: string[][]): Html {
  const info = context.repo.info;
  const name = file.status === 'renamed' && file.previousPath ? html`${file.previousPath} → ${file.path}` : html`${file.path}`;
  let content: Html;
  if (file.binary) content = html`<div class="blob-notice">Binary file not shown.</div>`;
  else if (file.tooLarge || !file.hunks) {
    content = html`<div class="blob-notice diff-too-large" data-reason="${file.tooLargeReason ?? ''}">Large diff not rendered${NOT_RENDERED[file.tooLargeReason ?? 'size'](options.what)}.</div>`;
  } else {
    const language = highlighted ? languageFor(file.path) : undefined;
    content = html`<table class="diff" data-language="${language ?? ''}"><tbody>${file.hunks.map(
      (hunk, hunkIndex) =>
        html`<tr class="hunk"><td class="num"></td><td class="num"></td><td class="line">${hunk.header}</td></tr>${hunk.lines.map(
          (line, lineIndex) =>
            html`<tr class="${line.kind}"><td class="num">${line.oldNumber ?? ''}</td><td class="num">${line.newNumber ?? ''}</td><td class="line">${line.kind === 'add' ? '+' : line.kind === 'del' ? '-' : ' '}${highlighted ? raw(highlighted[hunkIndex][lineIndex]) : line.text}</td></tr>`,
        )}`,
    )}</tbody></table>`;
  }
  return html`<div class="box diff-file" data-path="${file.path}" data-status="${file.status}">
<div class="box-header"><span class="badge">${file.status}</span><strong>${name}</strong>
<span class="additions">+${file.additions}</span><span class="deletions">−${file.deletions}</span>
${file.status !== 'removed' ? html`<a class="btn btn-small push-right" href="${refUrl(info, 'blob', options.at, file.path)}">View file</a>` : ''}</div>
${content}</div>`;
}
