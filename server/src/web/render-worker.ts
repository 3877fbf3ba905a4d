/** The rendering pool's thread (see render-pool.ts): Markdown and highlighted code, whose cost grows with the file. */
import { codeRows, highlightLineList } from './highlight.js';
import { renderMarkdown } from './markdown.js';
import { refUrl } from './urls.js';
import { lowerThisThreadPriority } from '@gitfleet/git-format';

// CPU-heavy tasks: the event loops of the process keep their cores first.
lowerThisThreadPriority();

export type RenderTask =
  | { kind: 'markdown'; source: Uint8Array; directory: string; links: { owner: string; name: string; ref: string } }
  | { kind: 'code'; text: Uint8Array; language?: string }
  | { kind: 'lines'; runs: LineRun[] };

/** Consecutive lines of one file (a side of a diff hunk), highlighted together. */
export interface LineRun {
  language: string;
  lines: string[];
}

export interface RenderOutput {
  html: string;
  /** Code only: the number of lines shown. */
  lineCount?: number;
}

/** For 'lines': each run's lines as HTML, in order. */
export interface LinesOutput {
  lines: string[][];
}

export default function render(task: RenderTask): RenderOutput | LinesOutput {
  if (task.kind === 'lines') return { lines: task.runs.map((run) => highlightLineList(run.lines, run.language)) };
  const decoder = new TextDecoder();
  if (task.kind === 'code') {
    const { rows, lineCount } = codeRows(decoder.decode(task.text), task.language);
    return { html: rows, lineCount };
  }
  const { owner, name, ref } = task.links;
  const rendered = renderMarkdown(decoder.decode(task.source), task.directory, {
    link: (path) => refUrl({ owner, name }, 'blob', ref, path),
    image: (path) => refUrl({ owner, name }, 'raw', ref, path),
  });
  return { html: rendered.text };
}
