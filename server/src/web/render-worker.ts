/** The rendering pool's thread (see render-pool.ts): Markdown and highlighted code, whose cost grows with the file. */
import { codeRows } from './highlight.js';
import { renderMarkdown } from './markdown.js';
import { refUrl } from './urls.js';

export type RenderTask =
  | { kind: 'markdown'; source: Uint8Array; directory: string; links: { owner: string; name: string; ref: string } }
  | { kind: 'code'; text: Uint8Array; language?: string };

export interface RenderOutput {
  html: string;
  /** Code only: the number of lines shown. */
  lineCount?: number;
}

export default function render(task: RenderTask): RenderOutput {
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
