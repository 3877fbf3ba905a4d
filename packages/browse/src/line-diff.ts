import { structuredPatch } from 'diff';
import type { DiffHunk, DiffLine } from './types.js';

/** Lines of context around each change, as git and GitHub show. */
const CONTEXT_LINES = 3;

/**
 * Bounds on one file's diff. Myers' algorithm costs about (lines × edits): `maxEditLength`
 * (added plus removed lines) makes a wholly rewritten file give up early, `timeoutMs` bounds
 * whatever is left.
 */
export interface LineDiffBounds {
  maxEditLength: number;
  timeoutMs: number;
}

export interface LineDiff {
  additions: number;
  deletions: number;
  hunks: DiffHunk[];
  /** Hunk headers and lines, as GitHub's `patch` field (no file headers). */
  patch: string;
  /** Lines of all hunks, headers included. */
  lineCount: number;
}

/** A unified diff of two texts; undefined when the texts are too different to diff within `bounds`. */
export function diffTexts(oldText: string, newText: string, bounds: LineDiffBounds): LineDiff | undefined {
  if (bounds.timeoutMs <= 0) return undefined;
  const structured = structuredPatch('a', 'b', oldText, newText, undefined, undefined, {
    context: CONTEXT_LINES,
    maxEditLength: bounds.maxEditLength,
    timeout: bounds.timeoutMs,
  });
  if (!structured) return undefined;
  let additions = 0;
  let deletions = 0;
  let lineCount = 0;
  const patchLines: string[] = [];
  const hunks: DiffHunk[] = [];
  for (const hunk of structured.hunks) {
    const header = `@@ -${range(hunk.oldStart, hunk.oldLines)} +${range(hunk.newStart, hunk.newLines)} @@`;
    patchLines.push(header);
    const lines: DiffLine[] = [];
    let oldNumber = hunk.oldStart;
    let newNumber = hunk.newStart;
    for (const line of hunk.lines) {
      patchLines.push(line);
      const text = line.slice(1);
      switch (line[0]) {
        case ' ':
          lines.push({ kind: 'context', text, oldNumber: oldNumber++, newNumber: newNumber++ });
          break;
        case '-':
          deletions++;
          lines.push({ kind: 'del', text, oldNumber: oldNumber++ });
          break;
        case '+':
          additions++;
          lines.push({ kind: 'add', text, newNumber: newNumber++ });
          break;
        // "\ No newline at end of file" stays in the patch text only: it is not a line of either file.
      }
    }
    lineCount += 1 + lines.length;
    hunks.push({ header, lines });
  }
  return { additions, deletions, hunks, patch: patchLines.join('\n'), lineCount };
}

/** git's hunk range: "start,count", ",1" left out, and an empty side starting one line earlier. */
function range(start: number, count: number): string {
  if (count === 0) return `${start - 1},0`;
  return count === 1 ? `${start}` : `${start},${count}`;
}
