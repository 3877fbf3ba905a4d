import { run, type RunResult } from './exec.js';

/**
 * The real git as a client, isolated from whoever runs the benchmark: no user or system config,
 * never a credential prompt, so every server sees the same requests.
 */
export class GitClient {
  constructor(readonly timeoutMs: number) {}

  readonly env: NodeJS.ProcessEnv = {
    ...process.env,
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: 'Bench',
    GIT_AUTHOR_EMAIL: 'bench@example.com',
    GIT_COMMITTER_NAME: 'Bench',
    GIT_COMMITTER_EMAIL: 'bench@example.com',
  };

  git(args: readonly string[], options: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
    return run('git', args, { cwd: options.cwd, input: options.input, env: { ...this.env, ...options.env }, timeoutMs: this.timeoutMs });
  }

  async seconds(args: readonly string[], options: { cwd?: string } = {}): Promise<number> {
    return (await this.git(args, options)).seconds;
  }
}
