/**
 * A real Gitfleet server for a test: started on a chosen backend, with its URL, ways to make
 * users and repositories through its REST API, its log, and a way to stop it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test, type TestContext } from 'node:test';
import { TEST_ADMIN_ENV, adminHeaders } from './admin.js';
import { WORKSPACE_ROOT, childEnv, gitfleetEntry } from './cli.js';
import { selectedStorage, type E2EBackendKind, type StorageBackend } from './server-storage.js';

export {
  ADMIN_GIT_CONFIG,
  TEST_ADMIN,
  TEST_ADMIN_EMAIL,
  TEST_ADMIN_ENV,
  TEST_ADMIN_PASSWORD,
  TEST_ADMIN_TOKEN,
  adminHeaders,
} from './admin.js';

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

/** Lets a server deliver webhooks to receivers on loopback, where the tests' receivers listen. */
export const LOOPBACK_RECEIVERS_ENV: Readonly<Record<string, string>> = { GITFLEET_HOOK_ALLOWED_NETWORKS: '127.0.0.1' };

const START_TIMEOUT_MS = 60_000;
const LOG_LINES_KEPT = 400;

export interface TestServer {
  /** Base URL, e.g. http://127.0.0.1:34567 */
  readonly url: string;
  readonly dataDir: string;
  /** The environment a `gitfleet` command needs to work on this server's stores (see runCli). */
  readonly cliEnv: Readonly<Record<string, string>>;
  /** The storage it runs on (see server-storage.ts). */
  readonly backend: E2EBackendKind;
  /** Makes sure the user exists (see ensureUser). */
  ensureUser(name: string): Promise<void>;
  /**
   * Creates a public repository through the REST API as TEST_ADMIN (its owner, a user, first if
   * missing) and returns its clone URL.
   */
  createRepo(owner: string, name: string): Promise<string>;
  /** The same, with the repository's id (which names its keys in the stores); `private` makes it private. */
  createRepository(owner: string, name: string, options?: { private?: boolean }): Promise<{ url: string; id: string }>;
  /** The last lines the server wrote (stdout and stderr), and how it exited if it did. */
  logTail(): string;
  /** True while the server runs. */
  alive(): boolean;
  /** Stops the server and removes its data. */
  stop(): Promise<void>;
}

/** What starting a server, in this process or in a child, tells about it. */
export interface StartedServer {
  url: string;
  dataDir: string;
  cliEnv: Readonly<Record<string, string>>;
  backend: E2EBackendKind;
  logTail(): string;
  alive(): boolean;
  stop(): Promise<void>;
}

/** The TestServer of a started server: its REST helpers act as TEST_ADMIN. */
export function testServer(started: StartedServer): TestServer {
  const { url } = started;
  const server: TestServer = {
    url,
    dataDir: started.dataDir,
    cliEnv: started.cliEnv,
    backend: started.backend,
    logTail: () => started.logTail(),
    alive: () => started.alive(),
    stop: () => started.stop(),
    ensureUser: (name) => ensureUser(url, name),
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
  };
  return server;
}

export interface StartOptions {
  /**
   * Storage shared with other servers, which the caller disposes of. By default each server
   * gets fresh storage of the backend GITFLEET_E2E_BACKEND selects, removed when it stops.
   */
  storage?: StorageBackend;
  /** node's arguments before `serve` (default: gitfleetEntry()). */
  entry?: readonly string[];
  /**
   * A data directory the caller owns, kept when the server stops: another server can then
   * start on the same data (after a crash, for instance). By default each server gets a
   * temporary one, removed when it stops.
   */
  dataDir?: string;
}

/** A server in a process of its own, which a test can also end with a signal. */
export interface ServerProcess extends TestServer {
  /** The server's process (with workers, their primary). */
  readonly pid: number;
  /** Ends the process with `signal` and waits for it to exit; its data and storage stay. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Resolves once the process has exited, however it ended. */
  readonly exited: Promise<void>;
}

/**
 * Starts a real server process on a free port; `extraEnv` sets more of its configuration
 * (limits, for instance).
 */
export async function startServer(extraEnv: Record<string, string> = {}, options: StartOptions = {}): Promise<ServerProcess> {
  const storage = options.storage ?? (await selectedStorage());
  const disposeOwnStorage = () => (options.storage ? Promise.resolve() : storage.dispose());
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'gitfleet-e2e-data-')));
  const removeOwnDataDir = () => (options.dataDir ? Promise.resolve() : rm(dataDir, { recursive: true, force: true }));
  const env = childEnv({
    // One process unless a test asks for workers: test/cluster.test.ts and the built server's
    // test run the cluster; every other test would only pay for its start-up.
    GITFLEET_WORKERS: '1',
    ...storage.env,
    ...TEST_ADMIN_ENV,
    ...extraEnv,
    HOST: '127.0.0.1',
    PORT: '0',
    GITFLEET_DATA_DIR: dataDir,
  });
  const child = spawn(process.execPath, [...(options.entry ?? gitfleetEntry()), 'serve'], {
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
  createInterface({ input: child.stderr }).on('line', remember('stderr'));
  const stdoutLines = createInterface({ input: child.stdout });
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
    await removeOwnDataDir();
    await disposeOwnStorage();
    throw new Error(`${(error as Error).message}\n--- server log ---\n${logTail()}`, { cause: error });
  }

  const server = testServer({
    url,
    dataDir,
    cliEnv: { ...storage.env, GITFLEET_DATA_DIR: dataDir },
    backend: storage.kind,
    logTail,
    alive: () => exitStatus === undefined,
    async stop() {
      if (exitStatus === undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      await removeOwnDataDir();
      await disposeOwnStorage();
    },
  });
  return {
    ...server,
    pid: child.pid!,
    exited,
    async kill(signal) {
      if (exitStatus === undefined) {
        child.kill(signal);
        await exited;
      }
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

/**
 * One server for the whole file: started (with `extraEnv`) before its first test, stopped
 * after its last. The object returned stands for it from the start, so that test bodies
 * written at load time can name it.
 */
export function serverForFile(extraEnv: Record<string, string> = {}): TestServer {
  let current: TestServer | undefined;
  before(async () => {
    current = await startServer(extraEnv);
  });
  after(async () => {
    await current?.stop();
  });
  const started = (): TestServer => {
    if (current === undefined) throw new Error("the file's server is used before its before() hook started it");
    return current;
  };
  return {
    get url() {
      return started().url;
    },
    get dataDir() {
      return started().dataDir;
    },
    get cliEnv() {
      return started().cliEnv;
    },
    get backend() {
      return started().backend;
    },
    ensureUser: (name) => started().ensureUser(name),
    createRepo: (owner, name) => started().createRepo(owner, name),
    createRepository: (owner, name, options) => started().createRepository(owner, name, options),
    // A failure before the start leaves no server: its log is empty then.
    logTail: () => current?.logTail() ?? '',
    alive: () => current?.alive() ?? false,
    stop: () => started().stop(),
  };
}
