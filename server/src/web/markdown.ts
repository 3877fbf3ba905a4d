import path from 'node:path';
import MarkdownIt from 'markdown-it';
import { raw, type Html } from './html.js';

/** html: false — HTML in a README is shown as text, never injected into the page. */
const markdown = new MarkdownIt({ html: false, linkify: true });

export interface LinkRewriter {
  /** Where a relative link to `repoPath` (a path from the repository root) goes. */
  link(repoPath: string): string;
  /** Where a relative image at `repoPath` is loaded from. */
  image(repoPath: string): string;
}

/**
 * Renders a README as GitHub does: relative links open the file in the repository at the
 * same revision, relative images load its raw bytes. `directory` is the README's directory.
 */
export function renderMarkdown(source: string, directory: string, rewriter: LinkRewriter): Html {
  const tokens = markdown.parse(source, {});
  for (const block of tokens) {
    for (const token of block.children ?? []) {
      const attribute = token.type === 'link_open' ? 'href' : token.type === 'image' ? 'src' : undefined;
      if (!attribute) continue;
      const url = token.attrGet(attribute);
      if (url === null || !isRelative(url)) continue;
      const rewritten = rewrite(url, directory, token.type === 'image' ? rewriter.image : rewriter.link);
      if (rewritten !== undefined) token.attrSet(attribute, rewritten);
    }
  }
  return raw(markdown.renderer.render(tokens, markdown.options, {}));
}

function isRelative(url: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:/i.test(url) && !url.startsWith('//') && !url.startsWith('#') && url !== '';
}

function rewrite(url: string, directory: string, target: (repoPath: string) => string): string | undefined {
  const match = /^([^?#]*)(.*)$/.exec(url)!;
  let decoded: string;
  try {
    decoded = decodeURIComponent(match[1]);
  } catch {
    return undefined;
  }
  // "/x" in a README means the repository root; ".." cannot climb above it.
  const joined = decoded.startsWith('/') ? decoded : path.posix.join('/', directory, decoded);
  const repoPath = path.posix.normalize(`/${joined}`).replace(/^\/+/, '').replace(/\/+$/, '');
  const suffix = match[2].startsWith('#') ? match[2] : '';
  return target(repoPath) + suffix;
}
