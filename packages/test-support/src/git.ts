/**
 * The real git, run with a fixed identity and clock and none of the machine's configuration:
 * no system or global config file, a HOME of its own. Every commit, tag and reflog entry a
 * test makes is then the same on every machine, and a developer's `~/.gitconfig` (signing,
 * hooks, default branch) never changes what a test sees.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/** Unusual time zones on purpose: parsers of the identity line meet a half-hour and a negative offset. */
export const TEST_AUTHOR = { name: 'A U Thor', email: 'author@example.com', date: '1700000000 +0130' } as const;
export const TEST_COMMITTER = { name: 'C O Mitter', email: 'committer@example.com', date: '1700000100 -0700' } as const;

/** Output larger than this fails the command (packs of the biggest fixtures stay far below). */
const MAX_OUTPUT_BYTES = 1 << 30;

let home: string | undefined;

/** An empty HOME shared by every git this process runs, removed when the process exits. */
function isolatedHome(): string {
  if (home === undefined) {
    const dir = mkdtempSync(path.join(tmpdir(), 'gitfleet-git-home-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    home = dir;
  }
  return home;
}

/**
 * Variables that keep every configuration file but the repository's own away from git.
 * `globalConfig` replaces the empty global config (a test client that needs settings).
 */
export function isolatedGitConfig(options: { home?: string; globalConfig?: string } = {}): Record<string, string> {
  const dir = options.home ?? isolatedHome();
  return {
    HOME: dir,
    XDG_CONFIG_HOME: path.join(dir, '.config'),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: options.globalConfig ?? '/dev/null',
  };
}

/**
 * Author and committer; with `clock` (the default) their dates too. Clients pushing to a
 * live server leave the clock out: the same change committed twice must make two commits.
 */
export function gitIdentity(options: { clock?: boolean } = {}): Record<string, string> {
  return {
    GIT_AUTHOR_NAME: TEST_AUTHOR.name,
    GIT_AUTHOR_EMAIL: TEST_AUTHOR.email,
    GIT_COMMITTER_NAME: TEST_COMMITTER.name,
    GIT_COMMITTER_EMAIL: TEST_COMMITTER.email,
    ...(options.clock === false ? {} : { GIT_AUTHOR_DATE: TEST_AUTHOR.date, GIT_COMMITTER_DATE: TEST_COMMITTER.date }),
  };
}

/** This process's environment with git isolated and the fixed identity (and clock, unless `clock: false`); `overrides` last. */
export function gitEnv(overrides: Record<string, string> = {}, options: { clock?: boolean } = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...isolatedGitConfig(), ...gitIdentity(options), ...overrides };
}

/** Runs git in `cwd` and returns its stdout; throws (with git's stderr) when it fails. */
export function git(cwd: string, args: readonly string[], input?: string | Buffer, env: Record<string, string> = {}): Buffer {
  return execFileSync('git', args, { cwd, input, env: gitEnv(env), maxBuffer: MAX_OUTPUT_BYTES, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** The same, as trimmed UTF-8 text. */
export function gitText(cwd: string, args: readonly string[], input?: string | Buffer, env?: Record<string, string>): string {
  return git(cwd, args, input, env).toString('utf8').trim();
}

export interface GitOutcome {
  status: number | null;
  stdout: string;
  /** stdout as git wrote it (packs, archives). */
  stdoutBytes: Buffer;
  stderr: string;
}

/** Runs git and returns how it ended, for commands a test expects to fail. */
export function gitStatus(
  cwd: string,
  args: readonly string[],
  options: { input?: string | Buffer; env?: Record<string, string> } = {},
): GitOutcome {
  const result = spawnSync('git', args, { cwd, input: options.input, env: gitEnv(options.env), maxBuffer: MAX_OUTPUT_BYTES });
  return { status: result.status, stdout: result.stdout.toString(), stdoutBytes: result.stdout, stderr: result.stderr.toString() };
}

/**
 * git without blocking the event loop, for commands that talk to a server in this process;
 * rejects (with its stderr) when it fails.
 */
export function gitAsync(
  cwd: string,
  args: readonly string[],
  options: { env?: Record<string, string>; clock?: boolean } = {},
): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)('git', args, { cwd, env: gitEnv(options.env, { clock: options.clock }), maxBuffer: MAX_OUTPUT_BYTES });
}
