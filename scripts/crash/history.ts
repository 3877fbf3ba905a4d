/**
 * What the crash rounds push: a line of commits (a history's first-parent chain, oldest first)
 * in a local bare repository that borrows the history's objects (alternates), so that rewritten
 * commits for force pushes can be written beside them without touching the source.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GitClient } from '../../packages/test-support/src/git-client.js';
import { buildHistory } from '../../packages/test-support/src/histories.js';

/** A generated history of `commits` commits, or an existing repository's branch. */
export type HistorySource = { kind: 'generated'; commits: number } | { kind: 'repository'; gitDir: string; branch: string };

/** A complete-refs view of git.git, which the long run pushes in increments of its history (read only). */
export const GIT_GIT_VIEW = '/work/main/.bench/views/git+git-fbc3f398da69.git';

export interface PushableHistory {
  /** The bare repository pushes are made from. */
  readonly gitDir: string;
  /** The first-parent chain, oldest first. */
  readonly chain: readonly string[];
}

/** Parses `generated:<commits>` or `<git dir>[#<branch>]` (branch master by default); `git` names GIT_GIT_VIEW. */
export function parseHistorySource(text: string): HistorySource {
  const generated = /^generated:(\d+)$/.exec(text);
  if (generated) return { kind: 'generated', commits: Number(generated[1]) };
  const [gitDir, branch = 'master'] = text.split('#');
  if (gitDir === '') throw new Error(`history source ${JSON.stringify(text)}: expected generated:<commits> or <git dir>[#<branch>]`);
  return { kind: 'repository', gitDir: gitDir === 'git' ? GIT_GIT_VIEW : gitDir, branch };
}

export function describeHistorySource(source: HistorySource): string {
  return source.kind === 'generated' ? `a generated history of ${source.commits} commits` : `${source.gitDir} (${source.branch})`;
}

/** Makes the pushing repository under `dir` and reads its chain. */
export async function preparePushableHistory(git: GitClient, source: HistorySource, dir: string): Promise<PushableHistory> {
  await mkdir(dir, { recursive: true });
  const [sourceGitDir, branch] = source.kind === 'generated' ? [buildHistory(dir, source.commits), 'main'] : [source.gitDir, source.branch];
  const gitDir = join(dir, 'pusher.git');
  await git.ok(['init', '-q', '--bare', gitDir]);
  await writeFile(join(gitDir, 'objects', 'info', 'alternates'), `${join(sourceGitDir, 'objects')}\n`);
  const out = await git.ok(['--git-dir', sourceGitDir, 'rev-list', '--first-parent', '--reverse', `refs/heads/${branch}`]);
  const chain = out.split('\n').filter((line) => line !== '');
  if (chain.length < 3) throw new Error(`${sourceGitDir}: ${branch} has ${chain.length} commits; the crash rounds need at least 3`);
  return { gitDir, chain };
}

/** A commit with the tree of chain[at] on chain[at - 1]: not a descendant of any later commit of the chain (a force push's new history). */
export async function rewrittenCommit(git: GitClient, history: PushableHistory, at: number, message: string): Promise<string> {
  const tree = `${history.chain[at]}^{tree}`;
  return git.ok(['--git-dir', history.gitDir, 'commit-tree', tree, '-p', history.chain[at - 1], '-m', message]);
}
