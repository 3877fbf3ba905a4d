import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { test, type TestContext } from 'node:test';
import { TEST_ADMIN_ENV, adminHeaders } from './admin.js';
import { selectedStorage, type E2EBackendKind, type StorageBackend } from './backend.js';

export const WORKSPACE_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export { ADMIN_GIT_CONFIG, TEST_ADMIN, TEST_ADMIN_EMAIL, TEST_ADMIN_ENV, TEST_ADMIN_PASSWORD, TEST_ADMIN_TOKEN, adminHeaders } from './admin.js';

/** The password ensureUser gives the users it creates. */
export function testPassword(user: string): string {
  return `password-of-${user}`;
}

/**
 * Makes sure a user of that name exists (created by TEST_ADMIN through the admin API, with
 * testPassword(name)); a name already taken, by a user or an organisation, is left as it is,
 * and so is one that cannot name a user (the caller's own request then refuses it).
 */
export async function ensureUser(baseUrl: string, name: string): Promise<void> {
  const response = await fetch(`${baseUrl}/api/v1/admin/users`, {
    method: 'POST',
    headers: adminHeaders({ 'content-type': 'application/json' }),
    body: JSON.stringify({ username: name, email: `${name}@example.test`, password: testPassword(name) }),
  });
  if (response.status === 201) return;
  const text = await response.text();
  if ((response.status === 422 || response.status === 409) && /exist|taken/i.test(text)) return;
  // A name no user can have: left to the request that needs the owner to refuse it itself.
  if (response.status === 422 && /invalid user name/.test(text)) return;
  throw new Error(`creating user ${name}: HTTP ${response.status} ${text}`);
}

/**
 * The server entry point. GITFLEET_E2E_CLI swaps in another implementation of the same
 * start-up contract (for example a wrapper around C git's http-backend) to check the suite
 * itself against a reference server.
 */
const CLI = resolve(WORKSPACE_ROOT, process.env.GITFLEET_E2E_CLI ?? 'server/src/cli.ts');
/** node's arguments that run the server from its TypeScript sources (the default). */
const SOURCE_ENTRY: readonly string[] = ['--import', 'tsx', CLI];
/** node's arguments that run the compiled product as `pnpm start` does; `pnpm build` makes it. */
export const COMPILED_ENTRY: readonly string[] = ['--conditions=@gitfleet/compiled', resolve(WORKSPACE_ROOT, 'server/dist/cli.js')];
const START_TIMEOUT_MS = 60_000;
const LOG_LINES_KEPT = 400;

export interface TestServer {
  /** Base URL, e.g. http://127.0.0.1:34567 */
  readonly url: string;
  readonly dataDir: string;
  /** The storage it runs on (see backend.ts). */
  readonly backend: E2EBackendKind;
  /**
   * Creates a public repository through the REST API as TEST_ADMIN (its owner, a user, first if
   * missing) and returns its clone URL.
   */
  createRepo(owner: string, name: string): Promise<string>;
  /** The same, with the repository's id (which names its keys in the stores); `private` makes it private. */
  createRepository(owner: string, name: string, options?: { private?: boolean }): Promise<{ url: string; id: string }>;
  /** The last lines the server wrote (stdout and stderr), and how it exited if it did. */
  logTail(): string;
  /** True while the process runs. */
  alive(): boolean;
  stop(): Promise<void>;
}

export interface StartOptions {
  /**
   * Storage shared with other servers, which the caller disposes of. By default each server
   * gets fresh storage of the backend GITFLEET_E2E_BACKEND selects, removed when it stops.
   */
  storage?: StorageBackend;
  /** node's arguments before `serve`: the sources through tsx by default, or COMPILED_ENTRY. */
  entry?: readonly string[];
}

/**
 * Starts a real server process on a free port with its own temporary data directory;
 * `extraEnv` sets more of its configuration (limits, for instance).
 */
export async function startServer(extraEnv: Record<string, string> = {}, options: StartOptions = {}): Promise<TestServer> {
  const storage = options.storage ?? (await selectedStorage());
  const disposeOwnStorage = () => (options.storage ? Promise.resolve() : storage.dispose());
  const dataDir = await mkdtemp(join(tmpdir(), 'gitfleet-e2e-data-'));
  const env = serverEnv({ ...storage.env, ...TEST_ADMIN_ENV, ...extraEnv, HOST: '127.0.0.1', PORT: '0', GITFLEET_DATA_DIR: dataDir });
  const child = spawn(process.execPath, [...(options.entry ?? SOURCE_ENTRY), 'serve'], {
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
    await disposeOwnStorage();
    throw new Error(`${(error as Error).message}\n--- server log ---\n${logTail()}`);
  }

  const server: TestServer = {
    url,
    dataDir,
    backend: storage.kind,
    logTail,
    alive: () => exitStatus === undefined,
    async createRepo(owner, name) {
      return (await server.createRepository(owner, name)).url;
    },
    async createRepository(owner, name, options = {}) {
      await ensureUser(url, owner);
      const response = await fetch(`${url}/api/v1/repos`, {
        method: 'POST',
        headers: adminHeaders({ 'content-type': 'application/json' }),
        body: JSON.stringify({ owner, name, private: options.private ?? false }),
      });
      if (response.status !== 201) {
        throw new Error(`creating ${owner}/${name}: HTTP ${response.status} ${await response.text()}`);
      }
      const { id } = (await response.json()) as { id: string };
      return { url: `${url}/${owner}/${name}.git`, id };
    },
    async stop() {
      if (exitStatus === undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dataDir, { recursive: true, force: true });
      await disposeOwnStorage();
    },
  };
  return server;
}

/** The environment of a server or CLI process: this one's, with `overrides`. */
function serverEnv(overrides: Record<string, string>): NodeJS.ProcessEnv {
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

/** Runs the server's CLI (`gitfleet <args>`) to completion with `env` added to this process's. */
export function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolveResult, reject) => {
    const child = spawn(process.execPath, [...SOURCE_ENTRY, ...args], {
      cwd: WORKSPACE_ROOT,
      env: serverEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolveResult({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
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
 * `test()` whose failures carry the recent log of the server (or of each of the servers),
 * so an e2e failure shows what the servers said about it.
 */
export function serverTest(servers: () => TestServer | readonly (TestServer | undefined)[] | undefined) {
  return (name: string, fn: (t: TestContext) => Promise<void>, options: { timeout?: number } = {}) =>
    test(name, { timeout: options.timeout ?? 120_000 }, async (t) => {
      try {
        await fn(t);
      } catch (error) {
        const current = servers();
        const list = current === undefined ? [] : Array.isArray(current) ? current : [current as TestServer];
        const tails = list.flatMap((server, index) => {
          const tail = server?.logTail();
          const label = list.length > 1 ? `server ${index} (${server?.url}) log (tail)` : 'server log (tail)';
          return tail ? [`\n--- ${label} ---\n${tail}`] : [];
        });
        if (error instanceof Error) error.message += tails.join('');
        throw error;
      }
    });
}
