import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { answers, Daemon, freePort } from './daemon.js';
import { run, type RunResult } from './exec.js';
import { prepareWithMaintenance, type GitfleetCli, type MaintenanceMode, type PrepareOutcome } from './maintenance.js';
import { deleteRunData } from './run-data.js';
import { startEnvironment, startNodeOptions } from './start-command.js';

export type ServerName =
  | 'gitfleet'
  | 'gitfleet-1w'
  | 'gitfleet-2w'
  | 'gitfleet-repacked'
  | 'gitfleet-s3'
  | 'gitfleet-s3-1w'
  | 'gitfleet-s3-2w'
  | 'http-backend'
  | 'http-backend-bitmaps'
  | 'node-git-server';

/** One process serving git over HTTP. */
export interface ServerProcess {
  readonly daemon: Daemon;
  url(repo: string): string;
}

/** One server under test: repositories are created through its own means, used through its URL. */
export interface BenchServer extends ServerProcess {
  readonly name: ServerName;
  createRepo(repo: string): Promise<void>;
  /**
   * Starts further processes over the same stores (stateless Gitfleet only): they serve the
   * same repositories at once, as behind a load balancer.
   */
  startPeers?(count: number): Promise<ServerProcess[]>;
  /** Deletes what the server left outside its work directory (objects in S3, keys in Redis). */
  dispose?(): Promise<void>;
  /** Readies a loaded repository for the read cases (Gitfleet: maintenance; C git: a repack with bitmaps). */
  prepareLoaded?(repo: string): Promise<PrepareOutcome>;
  /**
   * URLs of `repo` for `count` clients pushing at once, each as an account of its own where the
   * server has accounts (Gitfleet bounds the pushes of one account at once); else `url(repo)`.
   */
  pusherUrls?(repo: string, count: number): Promise<string[]>;
}

/** How servers ready a loaded repository, and how long their set-up commands may take. */
export interface ServerSettings {
  maintenance: MaintenanceMode;
  timeoutMs: number;
}
const DEFAULT_SETTINGS: ServerSettings = { maintenance: 'none', timeoutMs: 30 * 60_000 };

/** Where a server keeps its data (workDir) and its log files (logDir, kept after the run). */
export interface ServerDirs {
  workDir: string;
  logDir: string;
  /** Unique to this run: names its S3 prefix and Redis namespace, so runs never share or clobber data. */
  runId: string;
}

const START_TIMEOUT_MS = 60_000;
/** A CLI command on the server's data (maintenance of a large repository included). */
const CLI_TIMEOUT_MS = 60 * 60_000;
const SETUP_TIMEOUT_MS = 60_000;
export const OWNER = 'bench';
export const DEFAULT_BRANCH = 'main';
/**
 * Gitfleet's bootstrap administrator (GITFLEET_ADMIN_*), who owns the bench repositories: its
 * fixed token creates them and rides in the clone URL, so git authenticates its pushes as it
 * would against GitHub (a 401 challenge, then the URL's credentials).
 */
export const ADMIN_TOKEN = 'gf_bench0000000000000000000000000000000000';
const ADMIN_ENV = { GITFLEET_ADMIN_USER: OWNER, GITFLEET_ADMIN_PASSWORD: 'bench-password', GITFLEET_ADMIN_TOKEN: ADMIN_TOKEN };

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Gitfleet through its own CLI, as a user starts it, on a fresh data directory (files + SQLite). */
export async function startGitfleet(dirs: ServerDirs, settings = DEFAULT_SETTINGS): Promise<BenchServer> {
  const main = await launchGitfleet('gitfleet', dirs, backgroundMaintenance(settings.maintenance));
  return gitfleetServer('gitfleet', main, settings);
}

/** The same as one process (GITFLEET_WORKERS=1). */
export function startGitfleetOneWorker(dirs: ServerDirs, settings = DEFAULT_SETTINGS): Promise<BenchServer> {
  return launchGitfleetWorkers('gitfleet-1w', dirs, settings, 1);
}

/** The same as two worker processes (GITFLEET_WORKERS=2): one per core on a machine of two. */
export function startGitfleetTwoWorkers(dirs: ServerDirs, settings = DEFAULT_SETTINGS): Promise<BenchServer> {
  return launchGitfleetWorkers('gitfleet-2w', dirs, settings, 2);
}

async function launchGitfleetWorkers(name: ServerName, dirs: ServerDirs, settings: ServerSettings, workers: number): Promise<BenchServer> {
  const main = await launchGitfleet(name, dirs, { ...backgroundMaintenance(settings.maintenance), GITFLEET_WORKERS: String(workers) });
  return gitfleetServer(name, main, settings);
}

/**
 * The same, but its repository freshly repacked after loading (`gitfleet maintenance run
 * --full`) whatever --maintenance says: the yardstick of a repository left to automatic
 * maintenance, measured in the same run.
 */
export async function startGitfleetRepacked(dirs: ServerDirs, settings = DEFAULT_SETTINGS): Promise<BenchServer> {
  const main = await launchGitfleet('gitfleet-repacked', dirs, backgroundMaintenance('full'));
  return gitfleetServer('gitfleet-repacked', main, { ...settings, maintenance: 'full' });
}

/**
 * Gitfleet with packs in S3 and refs in Redis (the servers of scripts/servers/, named by the
 * GITFLEET_TEST_* variables they print), under a prefix and namespace of this run's own.
 */
export function startGitfleetS3(dirs: ServerDirs, settings = DEFAULT_SETTINGS): Promise<BenchServer> {
  return launchGitfleetS3('gitfleet-s3', dirs, settings, {});
}

/** The same as one process (GITFLEET_WORKERS=1) per server. */
export function startGitfleetS3OneWorker(dirs: ServerDirs, settings = DEFAULT_SETTINGS): Promise<BenchServer> {
  return launchGitfleetS3('gitfleet-s3-1w', dirs, settings, { GITFLEET_WORKERS: '1' });
}

/** The same as two worker processes (GITFLEET_WORKERS=2) per server. */
export function startGitfleetS3TwoWorkers(dirs: ServerDirs, settings = DEFAULT_SETTINGS): Promise<BenchServer> {
  return launchGitfleetS3('gitfleet-s3-2w', dirs, settings, { GITFLEET_WORKERS: '2' });
}

async function launchGitfleetS3(
  name: ServerName,
  dirs: ServerDirs,
  settings: ServerSettings,
  environment: NodeJS.ProcessEnv,
): Promise<BenchServer> {
  // A prefix and namespace per server: gitfleet-s3, gitfleet-s3-1w and gitfleet-s3-2w may run side by side.
  const backends = { ...distributedBackends(`${dirs.runId}-${name}`), ...backgroundMaintenance(settings.maintenance), ...environment };
  const main = await launchGitfleet(name, dirs, backends);
  let launched = 1;
  return {
    ...gitfleetServer(name, main, settings),
    async startPeers(count) {
      const labels = Array.from({ length: count }, () => `${name}-${++launched}`);
      const started = await Promise.allSettled(labels.map((label) => launchGitfleet(label, dirs, backends)));
      const peers = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
      const failed = started.find((result) => result.status === 'rejected');
      if (failed) {
        await Promise.all(peers.map((peer) => peer.daemon.stop()));
        throw failed.reason;
      }
      return peers;
    },
    dispose: () => deleteRunData(backends),
  };
}

/**
 * Maintenance in the server's background only with `auto`: as pushed (`none`) must stay as pushed,
 * and `full` is the CLI's run alone, not one racing a run the load's pushes started.
 */
function backgroundMaintenance(mode: MaintenanceMode): NodeJS.ProcessEnv {
  return { GITFLEET_MAINTENANCE: mode === 'auto' ? '1' : '0' };
}

function gitfleetServer(name: ServerName, main: GitfleetProcess, settings: ServerSettings): BenchServer {
  return {
    name,
    daemon: main.daemon,
    url: main.url,
    prepareLoaded: (repo) => prepareWithMaintenance(main.cli, `${OWNER}/${repo}`, settings.maintenance, settings.timeoutMs),
    async pusherUrls(repo, count) {
      const urls: string[] = [];
      // One account after another: password checks of one address at once are bounded.
      for (let k = 0; k < count; k++) urls.push(await pusherAccountUrl(name, main.base, repo, `pusher-${k}`));
      return urls;
    },
    async createRepo(repo) {
      const response = await fetch(`${main.base}/api/v1/repos`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
        body: JSON.stringify({ owner: OWNER, name: repo }),
        signal: AbortSignal.timeout(SETUP_TIMEOUT_MS),
      });
      if (response.status !== 201)
        throw new Error(`${name}: creating ${OWNER}/${repo} answered ${response.status}: ${await response.text()}`);
    },
  };
}

/** The URL of `repo` for `user`, an account made for it (if new) with write access and a fresh token. */
async function pusherAccountUrl(server: ServerName, base: string, repo: string, user: string): Promise<string> {
  const password = `bench-${user}-password`;
  const call = async (method: string, path: string, body: unknown, authorization: string, expect: number[]) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(SETUP_TIMEOUT_MS),
    });
    if (!expect.includes(response.status))
      throw new Error(`${server}: ${method} ${path} answered ${response.status}: ${await response.text()}`);
    return response;
  };
  const admin = `Bearer ${ADMIN_TOKEN}`;
  await call('POST', '/api/v1/admin/users', { username: user, email: `${user}@bench.test`, password }, admin, [201, 409, 422]);
  await call('PUT', `/api/v1/repos/${OWNER}/${repo}/collaborators/${user}`, { permission: 'write' }, admin, [201, 204]);
  const basic = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const token = await call(
    'POST',
    `/api/v1/users/${user}/tokens`,
    { name: `bench-${Date.now()}`, scopes: ['write:repository'] },
    basic,
    [201],
  );
  const { sha1 } = (await token.json()) as { sha1: string };
  return `${base.replace('http://', `http://${user}:${sha1}@`)}/${OWNER}/${repo}.git`;
}

/** A Gitfleet process, and its CLI run on the same data. */
interface GitfleetProcess extends ServerProcess {
  base: string;
  port: number;
  cli: GitfleetCli;
}

/**
 * One Gitfleet process: its own port, spool directory and log file (info level: one JSON line per
 * request). Its data directory is named by `label`: launched again (on the same `port`), it
 * serves the same data at the same URL.
 */
export async function launchGitfleet(
  label: string,
  dirs: ServerDirs,
  backendEnv: NodeJS.ProcessEnv,
  port?: number,
): Promise<GitfleetProcess> {
  port ??= await freePort();
  const dataDir = path.join(dirs.workDir, `${label}-data`);
  await mkdir(dataDir, { recursive: true });
  const base = `http://127.0.0.1:${port}`;
  const inherited = withoutGitfleetSettings(process.env);
  const env = {
    ...inherited,
    ...startEnvironment(inherited),
    ...backendEnv,
    ...ADMIN_ENV,
    HOST: '127.0.0.1',
    PORT: String(port),
    GITFLEET_DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
  };
  const server = compiledServer();
  const logFile = path.join(dirs.logDir, `${label}.log`);
  const logFrom = existsSync(logFile) ? statSync(logFile).size : 0;
  const daemon = Daemon.start(label, process.execPath, [...server, 'serve'], { cwd: projectRoot, env, logFile });
  // Up once the process says every worker listens: the first one answers /healthz while the
  // next ones still start (a worker after another), and a case measured then would share the
  // cores with their start-up.
  await readyOrStopped(daemon, async () => (await answers(`${base}/healthz`, 200)) && saysListening(logFile, logFrom, daemon.pid));
  const withCredentials = base.replace('http://', `http://${OWNER}:${ADMIN_TOKEN}@`);
  return {
    daemon,
    base,
    port,
    url: (repo) => `${withCredentials}/${OWNER}/${repo}.git`,
    cli: (args): Promise<RunResult> => run(process.execPath, [...server, ...args], { cwd: projectRoot, env, timeoutMs: CLI_TIMEOUT_MS }),
  };
}

/** Whether the log, from byte `from` on, has the "listening" line of process `pid` (the server's, not a worker's). */
async function saysListening(logFile: string, from: number, pid: number): Promise<boolean> {
  // Only what this process wrote: the file is appended to across restarts.
  const file = await open(logFile, 'r');
  let text: string;
  try {
    const { size } = await file.stat();
    const bytes = Buffer.alloc(Math.max(0, size - from));
    await file.read(bytes, 0, bytes.length, from);
    text = bytes.toString('utf8');
  } finally {
    await file.close();
  }
  return text.split('\n').some((line) => line.includes('"msg":"listening"') && line.includes(`"pid":${pid},`));
}

/** node's arguments that run the compiled server as `pnpm start` does, built first when a source changed: the product is what is measured. */
function compiledServer(): string[] {
  const build = spawnSync(process.execPath, [path.join(projectRoot, 'scripts/build.mjs'), '--if-stale'], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (build.status !== 0) throw new Error(`scripts/build.mjs --if-stale failed (exit ${build.status ?? build.signal})`);
  return [...startNodeOptions(), path.join(projectRoot, 'server/dist/cli.js')];
}

/** A shell that followed "Running distributed" has GITFLEET_* exported: the plain column must still be files + SQLite. */
function withoutGitfleetSettings(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !(name.startsWith('GITFLEET_') && !name.startsWith('GITFLEET_TEST_'))));
}

/** gitfleet-s3's backend settings for this run, from the variables scripts/servers/{redis,radosgw}.sh print. */
function distributedBackends(runId: string): NodeJS.ProcessEnv {
  const names = [
    'GITFLEET_TEST_S3_ENDPOINT',
    'GITFLEET_TEST_S3_BUCKET',
    'GITFLEET_TEST_S3_ACCESS_KEY',
    'GITFLEET_TEST_S3_SECRET_KEY',
    'GITFLEET_TEST_REDIS_URL',
  ];
  const missing = names.filter((name) => !process.env[name]);
  if (missing.length > 0) {
    throw new Error(
      `${missing.join(', ')} unset: start the servers first with eval "$(scripts/servers/redis.sh start)"; eval "$(scripts/servers/radosgw.sh start)"`,
    );
  }
  return {
    GITFLEET_BLOB_BACKEND: 's3',
    GITFLEET_S3_ENDPOINT: process.env.GITFLEET_TEST_S3_ENDPOINT,
    GITFLEET_S3_REGION: process.env.GITFLEET_TEST_S3_REGION || 'us-east-1',
    GITFLEET_S3_BUCKET: process.env.GITFLEET_TEST_S3_BUCKET,
    GITFLEET_S3_ACCESS_KEY_ID: process.env.GITFLEET_TEST_S3_ACCESS_KEY,
    GITFLEET_S3_SECRET_ACCESS_KEY: process.env.GITFLEET_TEST_S3_SECRET_KEY,
    GITFLEET_S3_PREFIX: `bench/${runId}/`,
    GITFLEET_KV_BACKEND: 'redis',
    GITFLEET_REDIS_URL: process.env.GITFLEET_TEST_REDIS_URL,
    GITFLEET_REDIS_NAMESPACE: `bench-${runId}`,
  };
}

/** C git's http-backend as CGI behind lighttpd, the set-up git-http-backend(1) documents; repositories as pushed. */
export function startHttpBackend(dirs: ServerDirs, settings = DEFAULT_SETTINGS): Promise<BenchServer> {
  return startLighttpdBackend('http-backend', dirs, settings, false);
}

/**
 * The same, but a loaded repository is first repacked as a host's maintenance would: one pack
 * with a reachability bitmap, and a commit-graph (`git repack -adb --write-bitmap-index`,
 * `git commit-graph write --reachable`).
 */
export function startHttpBackendBitmaps(dirs: ServerDirs, settings = DEFAULT_SETTINGS): Promise<BenchServer> {
  return startLighttpdBackend('http-backend-bitmaps', dirs, settings, true);
}

async function startLighttpdBackend(
  name: ServerName,
  { workDir, logDir }: ServerDirs,
  settings: ServerSettings,
  bitmaps: boolean,
): Promise<BenchServer> {
  await ensureLighttpd();
  const port = await freePort();
  const root = path.join(workDir, 'http-backend-repos');
  const uploads = path.join(workDir, 'lighttpd-uploads');
  await mkdir(path.join(root, OWNER), { recursive: true });
  await mkdir(uploads, { recursive: true });
  const backend = (await run('git', ['--exec-path'], { timeoutMs: SETUP_TIMEOUT_MS })).stdout.trim() + '/git-http-backend';
  const conf = path.join(workDir, 'lighttpd.conf');
  await writeFile(
    conf,
    [
      'server.modules = ( "mod_alias", "mod_cgi", "mod_setenv" )',
      `server.bind = "127.0.0.1"`,
      `server.port = ${port}`,
      `server.document-root = ${JSON.stringify(root)}`,
      `server.errorlog = ${JSON.stringify(path.join(logDir, `${name}-lighttpd-error.log`))}`,
      `server.upload-dirs = ( ${JSON.stringify(uploads)} )`,
      // Responses stream. Request bodies are spooled to upload-dirs first: mod_cgi answers 411 to a chunked
      // body it would have to stream (git sends pushes over 1 MiB chunked), and CGI needs CONTENT_LENGTH.
      'server.stream-request-body = 0',
      'server.stream-response-body = 2',
      // 0 = no limit on request bodies (full pushes of large repositories).
      'server.max-request-size = 0',
      `alias.url = ( "/git" => ${JSON.stringify(backend)} )`,
      '$HTTP["url"] =~ "^/git" {',
      '  cgi.assign = ( "" => "" )',
      `  setenv.add-environment = ( "GIT_PROJECT_ROOT" => ${JSON.stringify(root)}, "GIT_HTTP_EXPORT_ALL" => "" )`,
      '}',
      '',
    ].join('\n'),
  );
  const daemon = Daemon.start(name, 'lighttpd', ['-D', '-f', conf], {
    cwd: workDir,
    env: process.env,
    logFile: path.join(logDir, `${name}-lighttpd.log`),
  });
  const base = `http://127.0.0.1:${port}/git`;
  const repoDir = (repo: string) => path.join(root, OWNER, `${repo}.git`);
  const server: BenchServer = {
    name,
    daemon,
    createRepo: (repo) => initBareRepo(repoDir(repo)),
    url: (repo) => `${base}/${OWNER}/${repo}.git`,
    ...(bitmaps && { prepareLoaded: (repo) => repackWithBitmaps(repoDir(repo), settings.timeoutMs) }),
  };
  await readyOrStopped(daemon, () => answers(`http://127.0.0.1:${port}/`));
  return server;
}

/** node-git-server in a process of its own (so its memory is its own), serving a directory of bare repositories. */
export async function startNodeGitServer({ workDir, logDir }: ServerDirs): Promise<BenchServer> {
  const port = await freePort();
  const root = path.join(workDir, 'node-git-server-repos');
  await mkdir(path.join(root, OWNER), { recursive: true });
  const daemon = Daemon.start(
    'node-git-server',
    process.execPath,
    ['--import', 'tsx', path.join(projectRoot, 'scripts/bench/node-git-server-main.ts'), root, String(port)],
    { cwd: projectRoot, env: process.env, logFile: path.join(logDir, 'node-git-server.log') },
  );
  const base = `http://127.0.0.1:${port}`;
  await readyOrStopped(daemon, () => answers(`${base}/`));
  return {
    name: 'node-git-server',
    daemon,
    // Created ahead (not autoCreate) so that HEAD names main, as on the other servers.
    createRepo: (repo) => initBareRepo(path.join(root, OWNER, `${repo}.git`)),
    url: (repo) => `${base}/${OWNER}/${repo}.git`,
  };
}

/** A server that never became ready must not outlive the attempt. */
async function readyOrStopped(daemon: Daemon, probe: () => Promise<boolean>): Promise<void> {
  try {
    await daemon.waitReady(probe, START_TIMEOUT_MS);
  } catch (error) {
    await daemon.stop();
    throw error;
  }
}

async function repackWithBitmaps(gitDir: string, timeoutMs: number): Promise<PrepareOutcome> {
  const repack = await run('git', ['--git-dir', gitDir, 'repack', '-adb', '--write-bitmap-index', '-q'], { timeoutMs });
  const graph = await run('git', ['--git-dir', gitDir, 'commit-graph', 'write', '--reachable', '--no-progress'], { timeoutMs });
  return {
    seconds: repack.seconds + graph.seconds,
    note: '`git repack -adb --write-bitmap-index` and `git commit-graph write --reachable` after loading',
  };
}

/**
 * An empty bare repository configured as a host would: pushes without auth, partial clones
 * allowed. No automatic gc after pushes: "as pushed" stays as pushed (a gc of a bare
 * repository would write a bitmap), and the bitmaps column is repacked by the benchmark.
 */
async function initBareRepo(dir: string): Promise<void> {
  await run('git', ['init', '--quiet', '--bare', `--initial-branch=${DEFAULT_BRANCH}`, dir], { timeoutMs: SETUP_TIMEOUT_MS });
  for (const [key, value] of [
    ['http.receivepack', 'true'],
    ['uploadpack.allowFilter', 'true'],
    ['uploadpack.allowAnySHA1InWant', 'true'],
    ['receive.autogc', 'false'],
  ]) {
    await run('git', ['--git-dir', dir, 'config', key, value], { timeoutMs: SETUP_TIMEOUT_MS });
  }
}

/** A machine keeps nothing installed by hand, so the benchmark installs its web server itself. */
async function ensureLighttpd(): Promise<void> {
  if (existsSync('/usr/sbin/lighttpd')) return;
  process.stderr.write('lighttpd is missing: installing it with apt-get\n');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update'], { env, timeoutMs: 300_000 });
  await run('apt-get', ['install', '-y', '--no-install-recommends', 'lighttpd'], { env, timeoutMs: 300_000 });
}
