import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { test, type TestContext } from 'node:test';

export const WORKSPACE_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The server entry point. GITFLEET_E2E_CLI swaps in another implementation of the same
 * start-up contract (for example a wrapper around C git's http-backend) to check the suite
 * itself against a reference server.
 */
const CLI = resolve(WORKSPACE_ROOT, process.env.GITFLEET_E2E_CLI ?? 'server/src/cli.ts');
const START_TIMEOUT_MS = 60_000;
const LOG_LINES_KEPT = 400;

export interface TestServer {
  /** Base URL, e.g. http://127.0.0.1:34567 */
  readonly url: string;
  readonly dataDir: string;
  /** Creates a repository through the REST API and returns its clone URL. */
  createRepo(owner: string, name: string): Promise<string>;
  /** The last lines the server wrote (stdout and stderr), and how it exited if it did. */
  logTail(): string;
  /** True while the process runs. */
  alive(): boolean;
  stop(): Promise<void>;
}

/**
 * Starts a real server process on a free port with its own temporary data directory;
 * `extraEnv` sets more of its configuration (limits, for instance).
 */
export async function startServer(extraEnv: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gitfleet-e2e-data-'));
  const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv, HOST: '127.0.0.1', PORT: '0', GITFLEET_DATA_DIR: dataDir };
  // The test runner marks its children; the server is not a test file.
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve'], {
    cwd: WORKSPACE_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const log: string[] = [];
  const remember = (stream: string) => (line: string) => {
    log.push(`[${stream}] ${line}`);
    if (log.length > LOG_LINES_KEPT) log.shift();
  };
  createInterface({ input: child.stderr! }).on('line', remember('stderr'));
  const stdoutLines = createInterface({ input: child.stdout! });
  stdoutLines.on('line', remember('stdout'));

  let exitStatus: string | undefined;
  const exited = new Promise<void>((done) =>
    child.once('exit', (code, signal) => {
      exitStatus = `server exited (code ${code}, signal ${signal})`;
      process.removeListener('exit', killOnExit);
      done();
    }),
  );
  const logTail = () => [...log, ...(exitStatus ? [exitStatus] : [])].join('\n');

  let url: string;
  try {
    url = await waitForListening(child, stdoutLines, exited);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    await rm(dataDir, { recursive: true, force: true });
    throw new Error(`${(error as Error).message}\n--- server log ---\n${logTail()}`);
  }

  return {
    url,
    dataDir,
    logTail,
    alive: () => exitStatus === undefined,
    async createRepo(owner, name) {
      const response = await fetch(`${url}/api/v1/repos`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ owner, name }),
      });
      if (response.status !== 201) {
        throw new Error(`creating ${owner}/${name}: HTTP ${response.status} ${await response.text()}`);
      }
      return `${url}/${owner}/${name}.git`;
    },
    async stop() {
      if (exitStatus === undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

function waitForListening(child: ChildProcess, lines: ReturnType<typeof createInterface>, exited: Promise<void>): Promise<string> {
  return new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not log "listening" within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    const onLine = (line: string) => {
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch {
        return; // not a JSON log line
      }
      const { msg, url } = (record ?? {}) as { msg?: unknown; url?: unknown };
      if (msg === 'listening' && typeof url === 'string') {
        clearTimeout(timer);
        lines.off('line', onLine);
        resolveUrl(url.replace(/\/$/, ''));
      }
    };
    lines.on('line', onLine);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`server process ${child.pid} exited before listening`));
    });
  });
}

/**
 * `test()` whose failures carry the server's recent log, so an e2e failure shows what the
 * server said about it.
 */
export function serverTest(server: () => TestServer | undefined) {
  return (name: string, fn: (t: TestContext) => Promise<void>, options: { timeout?: number } = {}) =>
    test(name, { timeout: options.timeout ?? 120_000 }, async (t) => {
      try {
        await fn(t);
      } catch (error) {
        const tail = server()?.logTail();
        if (tail && error instanceof Error) {
          error.message += `\n--- server log (tail) ---\n${tail}`;
        }
        throw error;
      }
    });
}
