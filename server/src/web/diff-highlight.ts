import type { DiffHunk, FileDiff } from '@gitfleet/browse';
import { languageFor } from './highlight.js';
import type { RenderPool } from './render-pool.js';
import type { LineRun } from './render-worker.js';

/** Lines highlighted on one page at most, beside the byte bound: highlight.js pays per line too. */
const MAX_HIGHLIGHTED_LINES = 20_000;

/** Each highlighted file's hunks, each hunk's lines as HTML (in the hunk's order). */
export type HighlightedDiff = Map<FileDiff, string[][]>;

/**
 * The files of a diff highlighted in their languages, as the file view is: up to `maxBytes` of
 * line text (and MAX_HIGHLIGHTED_LINES lines) in all, in the rendering pool with its time
 * budget. A file that does not fit, or whose language is unknown, is left out and shown plain;
 * so is everything when the rendering took too long. Each hunk's old side (context and removed
 * lines) and new side (context and added lines) are highlighted as runs, so that a comment or
 * string spanning lines is coloured as in the file.
 */
export async function highlightDiff(render: RenderPool, files: readonly FileDiff[], maxBytes: number): Promise<HighlightedDiff> {
  const chosen: Array<{ file: FileDiff; language: string }> = [];
  let bytes = 0;
  let lines = 0;
  for (const file of files) {
    const language = file.binary || !file.hunks ? undefined : languageFor(file.path);
    if (!language) continue;
    const fileLines = file.hunks!.flatMap((hunk) => hunk.lines);
    const fileBytes = fileLines.reduce((sum, line) => sum + line.text.length, 0);
    if (bytes + fileBytes > maxBytes || lines + fileLines.length > MAX_HIGHLIGHTED_LINES) continue;
    bytes += fileBytes;
    lines += fileLines.length;
    chosen.push({ file, language });
  }
  const highlighted: HighlightedDiff = new Map();
  if (chosen.length === 0) return highlighted;
  const runs: LineRun[] = chosen.flatMap(({ file, language }) =>
    file.hunks!.flatMap((hunk) => sides(hunk).map((side) => ({ language, lines: side }))),
  );
  const rendered = await render.lines(runs);
  // Rendered lines that do not match the runs line for line would put one line's HTML on another: plain instead.
  if (!rendered || !matches(rendered, runs)) return highlighted;
  let run = 0;
  for (const { file } of chosen) {
    highlighted.set(
      file,
      file.hunks!.map((hunk) => merge(hunk, rendered[run++], rendered[run++])),
    );
  }
  return highlighted;
}

/** Whether `rendered` holds as many runs as `runs`, each of as many lines. */
function matches(rendered: string[][], runs: LineRun[]): boolean {
  return (
    rendered.length === runs.length &&
    runs.every((run, index) => Array.isArray(rendered[index]) && rendered[index].length === run.lines.length)
  );
}

/** The hunk's old side (context and removed lines) and new side (context and added lines). */
function sides(hunk: DiffHunk): [string[], string[]] {
  return [
    hunk.lines.filter((line) => line.kind !== 'add').map((line) => line.text),
    hunk.lines.filter((line) => line.kind !== 'del').map((line) => line.text),
  ];
}

/** The hunk's lines in order, each taken from its side (context lines from the new one). */
function merge(hunk: DiffHunk, oldSide: string[], newSide: string[]): string[] {
  let oldIndex = 0;
  let newIndex = 0;
  return hunk.lines.map((line) => {
    if (line.kind === 'del') return oldSide[oldIndex++];
    oldIndex += line.kind === 'context' ? 1 : 0;
    return newSide[newIndex++];
  });
}
