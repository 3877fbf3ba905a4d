import { spawn, type SpawnOptions } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/** How much of a failed command's output an error keeps: enough to see git's message, not a whole log. */
const OUTPUT_TAIL_CHARS = 4000;

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Every child gets one: a hung server must not hang the benchmark. */
  timeoutMs: number;
  /** Written to the child's stdin, which is then closed. */
  input?: string | Buffer;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  seconds: number;
}

export class CommandFailed extends Error {
  constructor(
    readonly command: string,
    readonly detail: string,
    readonly stderr: string,
  ) {
    super(`${command}: ${detail}${stderr ? `\n${tail(stderr)}` : ''}`);
  }
}

export function tail(text: string, chars = OUTPUT_TAIL_CHARS): string {
  const trimmed = text.trimEnd();
  return trimmed.length <= chars ? trimmed : `…${trimmed.slice(-chars)}`;
}

/**
 * Runs a command to completion and measures its wall time. The child leads its own process group
 * so that a timeout kills everything it started (git spawns helpers), not just the top process.
 */
export function run(command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const display = [command, ...args].join(' ');
  return new Promise((resolve, reject) => {
    const spawnOptions: SpawnOptions = {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    };
    const started = performance.now();
    const child = spawn(command, args, spawnOptions);
    if (child.pid !== undefined) runningGroups.add(child.pid);
    const stdout: Buffer[] = [];
    let stderr = '';
    let timedOut = false;
    child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => {
      // Keep only a tail: git's progress output on large repositories is long.
      stderr = (stderr + chunk.toString('utf8')).slice(-4 * OUTPUT_TAIL_CHARS);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid, 'SIGKILL');
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new CommandFailed(display, `could not start: ${error.message}`, ''));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      runningGroups.delete(child.pid!);
      const seconds = (performance.now() - started) / 1000;
      if (timedOut) return reject(new CommandFailed(display, `timed out after ${options.timeoutMs / 1000}s`, stderr));
      if (code !== 0) return reject(new CommandFailed(display, `exited with ${signal ?? code}`, stderr));
      resolve({ stdout: Buffer.concat(stdout).toString('utf8'), stderr, seconds });
    });
    child.stdin!.on('error', () => {
      // A child that exits without reading its input is reported through its exit code instead.
    });
    child.stdin!.end(options.input);
  });
}

/** Process groups of commands still running: an interrupted benchmark kills them (they do not share its group). */
const runningGroups = new Set<number>();

export function killRunningCommands(): void {
  for (const pid of runningGroups) killGroup(pid, 'SIGKILL');
  runningGroups.clear();
}

/** Signals a process group led by pid; a group that is already gone is not an error. */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: already exited.
  }
}
