import { ResultCache } from './result-cache.js';
import type { DiffResult } from './types.js';

/**
 * Diffs by the pair of trees they compare (a commit's diff is its parent's tree against its
 * own) and the limits they were computed under: a page asked for again, or by many at once,
 * costs nothing more.
 */
export class DiffCache extends ResultCache<DiffResult> {
  constructor(maxBytes: number) {
    super(maxBytes, estimateBytes);
  }
}

/** Each line's text is held twice (hunks and patch), two bytes a character, plus the objects around it. */
function estimateBytes(result: DiffResult): number {
  let bytes = 1024;
  for (const file of result.files) {
    bytes += 512 + file.path.length * 2;
    if (file.patch) bytes += file.patch.length * 4;
    for (const hunk of file.hunks ?? []) bytes += hunk.lines.length * 96;
  }
  return bytes;
}
