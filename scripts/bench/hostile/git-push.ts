import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CommandFailed } from '../exec.js';
import { GitClient } from '../git-client.js';
import { packetLines } from '../../../packages/test-support/src/wire.js';
import { request, shorten, describeError, type HttpAnswer } from './http.js';
import { basic, type Account } from './api.js';
import type { AttackContext, StrikeLimits } from './attack.js';

/** A work tree with its first commit of `files` on main. */
export async function repoWithFiles(git: GitClient, dir: string, files: Record<string, string | Buffer>, message = 'files'): Promise<void> {
  await git.git(['init', '--quiet', '--initial-branch=main', dir]);
  await commitFiles(git, dir, files, message);
}

export async function commitFiles(git: GitClient, dir: string, files: Record<string, string | Buffer>, message: string): Promise<string> {
  for (const [name, content] of Object.entries(files)) await writeFile(path.join(dir, name), content);
  await git.git(['add', '--all'], { cwd: dir });
  await git.git(['commit', '--quiet', '--allow-empty', '-m', message], { cwd: dir });
  return (await git.git(['rev-parse', 'HEAD'], { cwd: dir })).stdout.trim();
}

/** git for the measured part of an attack: killed when the attack's time is up. */
export function strikeGit(limits: StrikeLimits): GitClient {
  return new GitClient(Math.max(1, limits.remainingMs()));
}

/**
 * Runs a git push and says how it ended in git's words: the ref lines (" * [new branch]",
 * " ! [remote rejected] … (reason)") and any error or fatal line.
 */
export async function pushOutcome(git: GitClient, args: readonly string[], cwd: string, config: readonly string[] = []): Promise<string> {
  try {
    const { stderr } = await git.git([...config, 'push', ...args], { cwd });
    return `accepted: ${gitMessage(stderr) || 'ok'}`;
  } catch (error) {
    if (error instanceof CommandFailed) return `refused: ${gitMessage(error.stderr) || error.detail}`;
    throw error;
  }
}

/** "accepted", or git's refusal in full: what a row needs when the ref lines would only repeat the ref names. */
export function verdict(outcome: string): string {
  return outcome.startsWith('accepted') ? 'accepted' : outcome;
}

function gitMessage(stderr: string): string {
  const lines = stderr
    .split(/\r?\n|\r/)
    .map((line) => line.trim())
    .filter((line) => / -> |^(error|fatal|remote: error):|rejected|timed out/.test(line));
  return shorten([...new Set(lines)].join('; '), 140);
}

/** POSTs a hand-made receive-pack request as `account`, and reads git's report from the answer. */
export async function rawPush(ctx: AttackContext, account: Account, repo: string, body: Buffer, limits: StrikeLimits): Promise<string> {
  let answer: HttpAnswer;
  try {
    answer = await request(`${ctx.target.base()}/${account.name}/${repo}.git/git-receive-pack`, {
      method: 'POST',
      headers: {
        ...basic(account.name, account.token),
        'content-type': 'application/x-git-receive-pack-request',
        accept: 'application/x-git-receive-pack-result',
      },
      body,
      timeoutMs: limits.remainingMs(),
      signal: limits.signal,
    });
  } catch (error) {
    return `no answer: ${describeError(error)}`;
  }
  const report = answer.headers['content-type']?.includes('git-receive-pack-result')
    ? packetLines(answer.body).join('; ')
    : answer.body.toString('utf8');
  return `${answer.status} ${shorten(report, 140)}`;
}
