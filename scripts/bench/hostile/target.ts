import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { launchGitfleet, type ServerDirs, type ServerProcess } from '../servers.js';
import { request } from './http.js';

/** The server under attack: one the benchmark started (and can restart), or one it attached to. */
export interface Target {
  base(): string;
  /** The process whose RSS is sampled, when known. */
  pid(): number | undefined;
  /** Its data directory, when the benchmark started it (spool usage is measured there). */
  readonly dataDir: string | undefined;
  readonly restartable: boolean;
  /** False once the process is gone; how it ended, when known. */
  processAlive(): boolean;
  exitStatus(): string | undefined;
  /** Stops it if it still runs (a hung server is killed) and starts it again on the same data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const LABEL = 'gitfleet-hostile';

/** Gitfleet on the embedded default (files + SQLite), started through its CLI on a fresh data directory. */
export async function startOwnServer(dirs: ServerDirs, env: NodeJS.ProcessEnv): Promise<Target> {
  // The log file is appended to across restarts: only what this process wrote tells why it died.
  const logFile = path.join(dirs.logDir, `${LABEL}.log`);
  let logStart = sizeOf(logFile);
  let server: ServerProcess & { base: string; port: number } = await launchGitfleet(LABEL, dirs, env);
  return {
    base: () => server.base,
    pid: () => server.daemon.pid,
    dataDir: path.join(dirs.workDir, `${LABEL}-data`),
    restartable: true,
    processAlive: () => server.daemon.alive,
    exitStatus: () => {
      const status = server.daemon.exitStatus;
      const fatal = fatalLine(logFile, logStart);
      return status && fatal ? `${status}: ${fatal}` : status;
    },
    async restart() {
      await server.daemon.stop();
      logStart = sizeOf(logFile);
      // The same port: URLs the attacks prepared (clone URLs, hook targets) stay valid.
      server = await launchGitfleet(LABEL, dirs, env, server.port);
    },
    stop: () => server.daemon.stop(),
  };
}

const LOG_TAIL_BYTES = 64 * 1024;

/** V8's or Node's last words in the server's log ("FATAL ERROR: … JavaScript heap out of memory"). */
function fatalLine(logFile: string, from: number): string | undefined {
  try {
    const size = statSync(logFile).size;
    const tail = Buffer.alloc(Math.min(size - from, LOG_TAIL_BYTES));
    const fd = openSync(logFile, 'r');
    try {
      readSync(fd, tail, 0, tail.length, size - tail.length);
    } finally {
      closeSync(fd);
    }
    const lines = tail.toString('utf8').split('\n');
    const last = lines.reverse().find((line) => /FATAL ERROR|out of memory|RangeError|Maximum call stack/.test(line));
    if (last === undefined) return undefined;
    return /heap out of memory/.test(last) ? 'JavaScript heap out of memory' : last.trim().slice(0, 80);
  } catch {
    return undefined;
  }
}

function sizeOf(file: string): number {
  return existsSync(file) ? statSync(file).size : 0;
}

/** A server someone else runs: never restarted; its RSS is read only when its pid is given. */
export function attachedServer(url: string, pid: number | undefined): Target {
  const base = url.replace(/\/+$/, '');
  return {
    base: () => base,
    pid: () => pid,
    dataDir: undefined,
    restartable: false,
    processAlive: () => pid === undefined || existsSync(`/proc/${pid}`),
    exitStatus: () => undefined,
    restart: () => Promise.reject(new Error(`${base} was not started by the benchmark: it cannot restart it`)),
    stop: async () => {},
  };
}

/** True when /healthz answers 200 within `timeoutMs`. */
export async function healthy(target: Target, timeoutMs: number): Promise<boolean> {
  try {
    return (await request(`${target.base()}/healthz`, { timeoutMs })).status === 200;
  } catch {
    return false;
  }
}
