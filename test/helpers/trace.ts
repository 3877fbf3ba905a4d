import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GitClient, GitResult, RunOptions } from '@gitfleet/test-support/git-client';

/**
 * Runs git with GIT_TRACE_PACKET going to a file and returns the command's result with the
 * packet trace: the exact pkt-lines the client sent (`>`) and received (`<`).
 */
export async function withPacketTrace(git: GitClient, args: string[], options: RunOptions = {}): Promise<GitResult & { trace: string }> {
  const traceFile = join(await git.tempDir('trace'), 'packets');
  const result = await git.run(args, { ...options, env: { ...options.env, GIT_TRACE_PACKET: traceFile } });
  const trace = await readFile(traceFile, 'utf8').catch(() => '');
  return { ...result, trace };
}

/** Every object id the client sent a `want` for in a packet trace. */
export function wantedIds(trace: string): string[] {
  return [...trace.matchAll(/> want ([0-9a-f]{40})/g)].map((match) => match[1]);
}

/**
 * The number of objects git's client says it received, from its progress output
 * ("Receiving objects: 100% (N/N)" from index-pack, "Unpacking objects" from unpack-objects).
 * Needs `--progress`.
 */
export function receivedObjectCount(stderr: string): number {
  const matches = [...stderr.matchAll(/(?:Receiving|Unpacking) objects: 100% \((\d+)\/\d+\)/g)];
  if (matches.length === 0) throw new Error(`no object count in git's progress output:\n${stderr}`);
  return Number(matches[matches.length - 1][1]);
}
