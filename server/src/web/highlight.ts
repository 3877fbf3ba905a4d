import hljs from 'highlight.js';
import { escapeHtml, html, raw, type Html } from './html.js';

/** Files whose name, not extension, says the language. */
const LANGUAGE_BY_NAME: Record<string, string> = {
  makefile: 'makefile',
  gnumakefile: 'makefile',
  dockerfile: 'dockerfile',
  'cmakelists.txt': 'cmake',
  gemfile: 'ruby',
  rakefile: 'ruby',
  '.bashrc': 'bash',
  '.profile': 'bash',
  '.gitconfig': 'ini',
  '.gitmodules': 'ini',
};

/** The highlight.js language of a file, from its name or extension (hljs knows the aliases: ts, py, rs…). */
export function languageFor(path: string): string | undefined {
  const base = (path.split('/').pop() ?? '').toLowerCase();
  if (LANGUAGE_BY_NAME[base]) return LANGUAGE_BY_NAME[base];
  const dot = base.lastIndexOf('.');
  if (dot < 0) return undefined;
  const extension = base.slice(dot + 1);
  return extension !== '' && hljs.getLanguage(extension) ? extension : undefined;
}

/** A file as the rows of the code table (numbered lines), highlighted when the language is known. */
export function codeRows(text: string, language: string | undefined): { rows: string; lineCount: number } {
  const lines = highlightLines(text, language);
  const rows = lines.map(
    (line, index) =>
      html`<tr><td class="num" id="L${index + 1}" data-line="${index + 1}"><a href="#L${index + 1}">${index + 1}</a></td><td class="line">${line}</td></tr>`,
  );
  return { rows: html`${rows}`.text, lineCount: lines.length };
}

/** The file's lines (without their line ends), highlighted when the language is known, as HTML. */
function highlightLines(text: string, language: string | undefined): Html[] {
  const lines = splitLines(text);
  if (!language) return lines.map((line) => raw(escapeHtml(line)));
  return highlightLineList(lines, language).map(raw);
}

/**
 * Consecutive lines (without their line ends) highlighted together in `language`, so that a
 * construct spanning lines is seen whole: one well-formed piece of HTML per line.
 */
export function highlightLineList(lines: readonly string[], language: string): string[] {
  // Joined, no lines would read as one empty line: a line for each line given, none for none.
  if (lines.length === 0) return [];
  const highlighted = hljs.highlight(lines.join('\n'), { language, ignoreIllegals: true }).value;
  return balanceSpans(highlighted.split('\n'));
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
}

/**
 * highlight.js spans may cross line ends (a block comment): each line closes the spans still
 * open at its end and the next one reopens them, so every line is well-formed on its own.
 * Its output holds only `<span class="…">`, `</span>` and escaped text.
 */
function balanceSpans(lines: string[]): string[] {
  const open: string[] = [];
  return lines.map((line) => {
    const prefix = open.join('');
    for (const match of line.matchAll(/<span[^>]*>|<\/span>/g)) {
      if (match[0] === '</span>') open.pop();
      else open.push(match[0]);
    }
    return prefix + line + '</span>'.repeat(open.length);
  });
}
