/** The server's command line (`gitfleet <args>`), run as its users run it: a process of its own. */
import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const WORKSPACE_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * Another implementation of the same start-up contract (for example a wrapper around C git's
 * http-backend), run through tsx, to check the suite itself against a reference server.
 */
const OTHER_CLI = process.env.GITFLEET_E2E_CLI;
/** node's arguments that run the compiled product as `pnpm start` does; `pnpm build` makes it. */
export const COMPILED_ENTRY: readonly string[] = ['--conditions=@gitfleet/compiled', resolve(WORKSPACE_ROOT, 'server/dist/cli.js')];

let built = false;

/**
 * node's arguments that run `gitfleet`: the compiled product, as users run it, built first when a
 * source changed since the last build (a fraction of a second to find out when nothing did); or
 * GITFLEET_E2E_CLI through tsx. Compiled, a server starts in about 1 s, through tsx in 1.7 s,
 * and the suite starts hundreds of servers and commands.
 */
export function gitfleetEntry(): readonly string[] {
  if (OTHER_CLI !== undefined) return ['--import', 'tsx', resolve(WORKSPACE_ROOT, OTHER_CLI)];
  if (!built) {
    const build = spawnSync(process.execPath, [resolve(WORKSPACE_ROOT, 'scripts/build.mjs'), '--if-stale'], {
      cwd: WORKSPACE_ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
    });
    if (build.status !== 0) throw new Error(`the build before starting gitfleet failed:\n${build.stderr}`);
    built = true;
  }
  return COMPILED_ENTRY;
}

/** The environment of a server or CLI process: this one's, with `overrides`. */
export function childEnv(overrides: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...overrides };
  // The test runner marks its children; the server is not a test file.
  delete env.NODE_TEST_CONTEXT;
  return env;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `gitfleet <args>` to completion with `env` added to this process's. `stdin` is piped
 * in (empty by default), so the CLI never sees a terminal.
 */
export function runCli(args: readonly string[], env: Record<string, string> = {}, stdin: string = ''): Promise<CliResult> {
  return new Promise((resolveResult, reject) => {
    const child = spawn(process.execPath, [...gitfleetEntry(), ...args], {
      cwd: WORKSPACE_ROOT,
      env: childEnv(env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolveResult({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
    // A CLI that exits before reading its input closed the pipe; that is not our error.
    child.stdin.on('error', () => {});
    child.stdin.end(stdin);
  });
}
