import type { CommitStatus } from '../payloads/status.js';

/**
 * GitHub's combined state of a commit from the latest status of each context: failure if any
 * context failed or errored, pending if any is pending or none reported, else success.
 */
export function combinedState(latest: readonly CommitStatus[]): 'failure' | 'pending' | 'success' {
  if (latest.some((status) => status.state === 'failure' || status.state === 'error')) return 'failure';
  if (latest.length === 0 || latest.some((status) => status.state === 'pending')) return 'pending';
  return 'success';
}
