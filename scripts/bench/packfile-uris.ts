// A full clone whose client takes packfile URIs: how the benchmark tells that the server gave one.
import { scrapeMetrics } from '../../packages/test-support/src/metrics.js';

/** Every Gitfleet server of the benchmark: the ones that can give packfile URIs. */
export const GITFLEET_SERVERS = [
  'gitfleet',
  'gitfleet-1w',
  'gitfleet-2w',
  'gitfleet-repacked',
  'gitfleet-s3',
  'gitfleet-s3-1w',
  'gitfleet-s3-2w',
] as const;

/** git's opt-in: the client downloads a pack the server names by URL, over http or https. */
export const URI_OPT_IN = ['-c', 'fetch.uriProtocols=http,https'];

/**
 * The packfile URIs the Gitfleet server behind `repoUrl` has given so far, of either kind
 * (gitfleet_packfile_uris_total on its /metrics, open to clients on the same machine).
 */
export async function packfileUrisGiven(repoUrl: string): Promise<number> {
  return (await scrapeMetrics(new URL(repoUrl).origin)).sum('gitfleet_packfile_uris_total');
}
