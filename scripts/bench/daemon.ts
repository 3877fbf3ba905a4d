import { spawn } from 'node:child_process';
import { appendFileSync, closeSync, openSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { killGroup } from './exec.js';

const READY_POLL_MS = 100;
const STOP_GRACE_MS = 10_000;

/** A long-running server process started by the benchmark, in its own process group, logging to a file. */
export class Daemon {
  private exited = false;
  /** How the process ended, e.g. "code 1" or "signal SIGKILL", once it has. */
  exitStatus: string | undefined;
  private readonly exitPromise: Promise<void>;

  private constructor(
    readonly name: string,
    readonly pid: number,
    readonly logFile: string,
    child: ReturnType<typeof spawn>,
  ) {
    this.exitPromise = new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        this.exited = true;
        this.exitStatus = signal ? `signal ${signal}` : `code ${code}`;
        // Its process group may be gone and its pid reused: never signal it again.
        running.delete(this);
        // In the log itself, so a crash is found where its last words are.
        appendFileSync(logFile, `[bench] ${name} (pid ${pid}) exited with ${this.exitStatus} at ${new Date().toISOString()}\n`);
        resolve();
      }),
    );
  }

  static start(
    name: string,
    command: string,
    args: readonly string[],
    options: { cwd: string; env: NodeJS.ProcessEnv; logFile: string },
  ): Daemon {
    const log = openSync(options.logFile, 'a');
    try {
      const child = spawn(command, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', log, log] });
      if (child.pid === undefined) throw new Error(`${name}: could not start ${command} (see ${options.logFile})`);
      const daemon = new Daemon(name, child.pid, options.logFile, child);
      running.add(daemon);
      return daemon;
    } finally {
      closeSync(log);
    }
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** Polls until probe() resolves true; fails early if the process dies, and after timeoutMs. */
  async waitReady(probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const attempts = Math.ceil(timeoutMs / READY_POLL_MS);
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (this.exited) throw new Error(`${this.name} exited during start-up with ${this.exitStatus} (see ${this.logFile})`);
      if (await probe().catch(() => false)) return;
      await sleep(READY_POLL_MS);
    }
    throw new Error(`${this.name} not ready after ${timeoutMs / 1000}s (see ${this.logFile})`);
  }

  /**
   * SIGTERM to the whole group (the server and any git it spawned), SIGKILL if it lingers.
   * Only this daemon's own group (it was started detached, so the group id is its pid), and
   * only while it runs: other servers on the machine are never touched.
   */
  async stop(): Promise<void> {
    if (this.exited) return;
    killGroup(this.pid, 'SIGTERM');
    const killed = sleep(STOP_GRACE_MS).then(() => 'timeout' as const);
    if ((await Promise.race([this.exitPromise.then(() => 'exited' as const), killed])) === 'timeout') {
      killGroup(this.pid, 'SIGKILL');
      await this.exitPromise;
    }
  }
}

const running = new Set<Daemon>();

/** Last resort when the benchmark itself exits abruptly: none of its servers outlives it (and nothing else is hit: only daemons still running are listed). */
export function killAllDaemonsNow(): void {
  for (const daemon of running) killGroup(daemon.pid, 'SIGKILL');
  running.clear();
}

/** A port free on 127.0.0.1 right now (the OS picks it; the tiny race with other programs is acceptable here). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await new Promise((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** True when GET url answers over HTTP (with the given status, if one is given). */
export async function answers(url: string, status?: number): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await response.arrayBuffer();
  return status === undefined || response.status === status;
}
