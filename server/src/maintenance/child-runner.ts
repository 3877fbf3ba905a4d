import { spawn, type ChildProcess } from 'node:child_process';
import type { MaintenanceReport, Repository } from '@gitfleet/repository';
import { EXIT } from '../cli/errors.js';
import type { Logger } from '../logger.js';
import { DEBUGGER_OPTION, ownCliCommand } from './own-cli.js';
import type { MaintenanceOutcome } from './scheduler.js';

export interface ChildRunnerOptions {
  /**
   * The environment the server's configuration was read from: the child, started in the server's
   * working directory, reads the same stores and settings from it.
   */
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** How long a child asked to stop (SIGTERM) has to abort its run and release the lease before it is killed. */
  stopGraceMs?: number;
  /**
   * A run still going after this long is stopped as on abort and reported as failed: a run stuck
   * on a store that stopped answering would otherwise hold the repository's lease for ever.
   */
  maxRunMs: number;
}

/**
 * Long enough for the run to reach its next check of the signal (the longest step between two is
 * a second or two of CPU on a repository of a million objects) and release the lease; a killed
 * run leaves its lease to expire, which keeps every server out of the repository for minutes.
 */
export const MAINTENANCE_STOP_GRACE_MS = 10_000;
/** The report names packs by checksum; a child printing more than this is not printing a report. */
const MAX_REPORT_BYTES = 1024 * 1024;
/** What a warning about a failed run quotes of the child's stderr. */
const STDERR_TAIL_LINES = 20;
const STDERR_LINE_CHARS = 1000;

/**
 * Maintenance of one repository as `gitfleet maintenance run <owner>/<name> --json` in a child
 * process of the server's own CLI, as git runs `git maintenance run --auto` after a push: a full
 * repack holds the CPU for seconds at a time and needs memory in proportion to the repository,
 * which a server's event loop and heap must not pay for; the child runs at background priority,
 * so the requests beside it get the cores first. The run takes the repository's lease in
 * the KV store itself, as any `maintenance run` does, so the fleet still never runs two at once.
 *
 * Aborting `signal` asks the child to stop (SIGTERM: it abandons the run, publishes nothing and
 * releases the lease), and kills it after `stopGraceMs`. Its stderr (progress) is logged at debug.
 */
export async function runMaintenanceChild(repo: Repository, signal: AbortSignal, options: ChildRunnerOptions): Promise<MaintenanceOutcome> {
  signal.throwIfAborted();
  const fullName = `${repo.info.owner}/${repo.info.name}`;
  // --expect-id: a repository renamed meanwhile, whose name another one took, is not this one.
  const command = ownCliCommand(['maintenance', 'run', fullName, '--json', '--expect-id', repo.info.id, '--background']);
  // A process group of its own: a Ctrl-C at the server's terminal is the server's to pass on.
  const child = spawn(command.file, command.args, {
    env: childEnvironment(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  runningChildren.add(child);
  child.once('exit', () => runningChildren.delete(child));
  const log = options.logger.child({ repo: repo.info.id, maintainer: child.pid });
  log.debug({ fullName }, 'maintenance started in a child process');

  const stdout = new BoundedBytes(MAX_REPORT_BYTES);
  child.stdout?.on('data', (chunk: Buffer) => stdout.add(chunk));
  const stderr = new LineTail(STDERR_TAIL_LINES, STDERR_LINE_CHARS, (line) => log.debug({ line }, 'maintenance progress'));
  child.stderr?.setEncoding('utf8').on('data', (text: string) => stderr.add(text));

  const stop = stopper(child, options.stopGraceMs ?? MAINTENANCE_STOP_GRACE_MS);
  signal.addEventListener('abort', stop.start, { once: true });
  let overran = false;
  const limit = setTimeout(() => {
    overran = true;
    stop.start();
  }, options.maxRunMs);
  let exit: ChildExit;
  try {
    exit = await exitOf(child);
  } finally {
    clearTimeout(limit);
    signal.removeEventListener('abort', stop.start);
    stop.dispose();
  }
  stderr.end();

  if (signal.aborted) {
    log.info({ fullName, exit: describeExit(exit) }, 'maintenance stopped');
    throw signal.reason;
  }
  if (overran) {
    throw new Error(
      `maintenance of ${fullName} in child process ${child.pid} ran past its limit of ${options.maxRunMs / 1000} s ` +
        `(GITFLEET_MAINTENANCE_MAX_SECONDS) and was stopped (${describeExit(exit)})`,
    );
  }
  const report = parseReport(stdout);
  if (exit.code === EXIT.ok && report?.ran) return { ran: true, report, pid: child.pid };
  // The CLI's answer when another runner holds the lease: exit 1, and with --json the report of a run that did nothing.
  if (exit.code === EXIT.failure && report?.ran === false) {
    log.debug({ fullName }, 'another runner holds the maintenance lease');
    return { ran: false, pid: child.pid };
  }
  if (exit.code === EXIT.notFound) {
    log.info({ fullName }, 'repository renamed or deleted before its maintenance started; the next push or sweep finds it');
    return { ran: false, pid: child.pid };
  }
  throw new Error(
    `maintenance of ${fullName} in child process ${child.pid ?? '(not started)'} ${exit.error ? `failed: ${exit.error.message}` : `exited with ${describeExit(exit)}`}` +
      `${stderr.lines().length > 0 ? `; its stderr ended with:\n${stderr.lines().join('\n')}` : ''}`,
    { cause: exit.error },
  );
}

/**
 * Children still running. They are in process groups of their own, so no signal to the server's
 * group reaches them: when this process exits however it exits (a stop cut short, its primary
 * gone), each is told to stop, which abandons its run and releases the repository's lease.
 */
const runningChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of runningChildren) child.kill('SIGTERM');
});

/**
 * The server's environment without what makes a process something the child is not: a test file
 * (the test runner's mark), a cluster worker (node:cluster's identity, and the worker's slot), or
 * a process under a debugger (NODE_OPTIONS' --inspect* would make it bind the server's debugger
 * port, or wait for a debugger).
 */
function childEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_TEST_CONTEXT: _test, NODE_UNIQUE_ID: _worker, GITFLEET_WORKER_SLOT: _slot, ...rest } = env;
  if (rest.NODE_OPTIONS !== undefined) {
    rest.NODE_OPTIONS = rest.NODE_OPTIONS.split(/\s+/)
      .filter((option) => option !== '' && !DEBUGGER_OPTION.test(option))
      .join(' ');
  }
  return rest;
}

interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started. */
  error?: Error;
}

/** Resolves once the child has exited and its output is read to the end (or it could not start). */
function exitOf(child: ChildProcess): Promise<ChildExit> {
  return new Promise((resolve) => {
    let error: Error | undefined;
    child.once('error', (cause) => (error = cause));
    child.once('close', (code, signal) => resolve({ code, signal, error }));
  });
}

function describeExit(exit: ChildExit): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}

/** SIGTERM, then SIGKILL once the grace period is over. */
function stopper(child: ChildProcess, graceMs: number): { start(): void; dispose(): void } {
  let kill: NodeJS.Timeout | undefined;
  return {
    start() {
      child.kill('SIGTERM');
      kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    },
    dispose: () => clearTimeout(kill),
  };
}

function parseReport(stdout: BoundedBytes): MaintenanceReport | undefined {
  const text = stdout.text();
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as Partial<MaintenanceReport> | null;
    return typeof parsed?.ran === 'boolean' ? (parsed as MaintenanceReport) : undefined;
  } catch {
    return undefined;
  }
}

/** The bytes of a stream up to a bound; past it, none (a truncated report is no report). */
export class BoundedBytes {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private overflowed = false;

  constructor(private readonly maxBytes: number) {}

  add(chunk: Buffer): void {
    if (this.overflowed) return;
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      this.overflowed = true;
      this.chunks.length = 0;
      return;
    }
    this.chunks.push(chunk);
  }

  /** Undefined once the bound was passed. */
  text(): string | undefined {
    return this.overflowed ? undefined : Buffer.concat(this.chunks).toString('utf8');
  }
}

/**
 * Splits text into lines, handing each to `onLine` and keeping the last `maxLines`; a line is cut
 * to `maxChars`, so a child writing without newlines costs no more than one line.
 */
export class LineTail {
  private readonly kept: string[] = [];
  private partial = '';

  constructor(
    private readonly maxLines: number,
    private readonly maxChars: number,
    private readonly onLine: (line: string) => void,
  ) {}

  add(text: string): void {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop()!.slice(0, this.maxChars);
    for (const line of parts) this.complete(line);
  }

  /** The end of the stream: a last line without a newline counts too. */
  end(): void {
    if (this.partial !== '') this.complete(this.partial);
    this.partial = '';
  }

  lines(): readonly string[] {
    return this.kept;
  }

  private complete(line: string): void {
    const cut = line.slice(0, this.maxChars);
    this.onLine(cut);
    this.kept.push(cut);
    if (this.kept.length > this.maxLines) this.kept.shift();
  }
}
