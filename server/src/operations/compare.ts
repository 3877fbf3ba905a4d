/** What the compare API and the compare page share: how "{base}...{head}" is read, and the commits listed at most. */
import { HttpError } from '../http-errors.js';

/** GitHub's compare lists up to 250 commits. */
export const MAX_COMPARE_COMMITS = 250;

/** "base...head" → [base, head]; the first "..." splits, so neither side may be empty (404 otherwise). */
export function splitBasehead(basehead: string): [string, string] {
  const at = basehead.indexOf('...');
  const base = at < 0 ? '' : basehead.slice(0, at);
  const head = at < 0 ? '' : basehead.slice(at + 3);
  if (base === '' || head === '') throw new HttpError(404, `compare needs {base}...{head}, got "${basehead}"`);
  return [base, head];
}
