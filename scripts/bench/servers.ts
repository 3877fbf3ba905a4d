import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { answers, Daemon, freePort } from './daemon.js';
import { run } from './exec.js';

export type ServerName = 'gitfleet' | 'http-backend' | 'node-git-server';

/** One server under test: repositories are created through its own means, used through its URL. */
export interface BenchServer {
  readonly name: ServerName;
  readonly daemon: Daemon;
  createRepo(repo: string): Promise<void>;
  url(repo: string): string;
}

const START_TIMEOUT_MS = 60_000;
const SETUP_TIMEOUT_MS = 60_000;
const OWNER = 'bench';
export const DEFAULT_BRANCH = 'main';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Gitfleet through its own CLI, as a user starts it, on a fresh data directory. */
export async function startGitfleet(workDir: string): Promise<BenchServer> {
  const port = await freePort();
  const dataDir = path.join(workDir, 'gitfleet-data');
  await mkdir(dataDir, { recursive: true });
  const base = `http://127.0.0.1:${port}`;
  const daemon = Daemon.start('gitfleet', process.execPath, ['--import', 'tsx', path.join(projectRoot, 'server/src/cli.ts'), 'serve'], {
    cwd: projectRoot,
    // One JSON line per request: negligible next to packs, and it says why a request was refused.
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), GITFLEET_DATA_DIR: dataDir, LOG_LEVEL: 'info' },
    logFile: path.join(workDir, 'gitfleet.log'),
  });
  await readyOrStopped(daemon, () => answers(`${base}/healthz`, 200));
  return {
    name: 'gitfleet',
    daemon,
    async createRepo(repo) {
      const response = await fetch(`${base}/api/v1/repos`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ owner: OWNER, name: repo }),
        signal: AbortSignal.timeout(SETUP_TIMEOUT_MS),
      });
      if (response.status !== 201) throw new Error(`gitfleet: creating ${OWNER}/${repo} answered ${response.status}: ${await response.text()}`);
    },
    url: (repo) => `${base}/${OWNER}/${repo}.git`,
  };
}

/** C git's http-backend as CGI behind lighttpd, the set-up git-http-backend(1) documents. */
export async function startHttpBackend(workDir: string): Promise<BenchServer> {
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
      `server.errorlog = ${JSON.stringify(path.join(workDir, 'lighttpd-error.log'))}`,
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
  const daemon = Daemon.start('http-backend', 'lighttpd', ['-D', '-f', conf], { cwd: workDir, env: process.env, logFile: path.join(workDir, 'lighttpd.log') });
  const base = `http://127.0.0.1:${port}/git`;
  const server: BenchServer = {
    name: 'http-backend',
    daemon,
    createRepo: (repo) => initBareRepo(path.join(root, OWNER, `${repo}.git`)),
    url: (repo) => `${base}/${OWNER}/${repo}.git`,
  };
  await readyOrStopped(daemon, () => answers(`http://127.0.0.1:${port}/`));
  return server;
}

/** node-git-server in a process of its own (so its memory is its own), serving a directory of bare repositories. */
export async function startNodeGitServer(workDir: string): Promise<BenchServer> {
  const port = await freePort();
  const root = path.join(workDir, 'node-git-server-repos');
  await mkdir(path.join(root, OWNER), { recursive: true });
  const daemon = Daemon.start(
    'node-git-server',
    process.execPath,
    ['--import', 'tsx', path.join(projectRoot, 'scripts/bench/node-git-server-main.ts'), root, String(port)],
    { cwd: projectRoot, env: process.env, logFile: path.join(workDir, 'node-git-server.log') },
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

/** An empty bare repository configured as a host would: pushes without auth, partial clones allowed. */
async function initBareRepo(dir: string): Promise<void> {
  await run('git', ['init', '--quiet', '--bare', `--initial-branch=${DEFAULT_BRANCH}`, dir], { timeoutMs: SETUP_TIMEOUT_MS });
  for (const [key, value] of [
    ['http.receivepack', 'true'],
    ['uploadpack.allowFilter', 'true'],
    ['uploadpack.allowAnySHA1InWant', 'true'],
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
