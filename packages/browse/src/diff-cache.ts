import { ResultCache } from './result-cache.js';
import type { DiffResult } from './types.js';

/**
 * Diffs by the pair of trees they compare (a commit's diff is its parent's tree against its
 * own) and the limits they were computed under: a page asked for again, or by many at once,
 * costs nothing more. A diff cut short by time is not kept: a busy moment (a flood of other
 * diffs, say) must not make a commit show "not rendered" to everyone afterwards.
 */
export class DiffCache extends ResultCache<DiffResult> {
  constructor(maxBytes: number) {
    super(maxBytes, estimateBytes);
  }
}

/** Each line's text is held twice (hunks and patch), two bytes a character, plus the objects around it; Infinity: not to be kept. */
function estimateBytes(result: DiffResult): number {
  if (result.timeLimited) return Infinity;
  let bytes = 1024;
  for (const file of result.files) {
    bytes += 512 + file.path.length * 2;
    if (file.patch) bytes += file.patch.length * 4;
    for (const hunk of file.hunks ?? []) bytes += hunk.lines.length * 96;
  }
  return bytes;
}
