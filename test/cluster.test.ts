// One `gitfleet serve` as a primary and its workers (GITFLEET_WORKERS): both workers serve the
// port, what one accepts the other serves at once, /metrics and failed logins count for the whole
// machine, a worker that dies is replaced while the other keeps serving, and the workers end with
// their primary, whether it is stopped or killed.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import { after, before } from 'node:test';
import { runCli } from '@gitfleet/test-support/cli';
import { GitClient } from '@gitfleet/test-support/git-client';
import { serverTest, startServer, type ServerProcess } from '@gitfleet/test-support/server';
import { remoteRefs } from './helpers/compare.js';

const WORKERS = 2;
const FAILURES_PER_USER = 4;
/** Files of the commit whose push makes automatic maintenance repack in full (its default fullRepackMinObjects is 5,000 objects). */
const FULL_REPACK_FILES = 5_100;
/** Long enough for the push's maintenance and both workers' loading, on a loaded machine. */
const WARM_TIMEOUT_MS = 60_000;
/** Long enough for node to start a worker (through tsx, on a loaded machine). */
const REPLACEMENT_TIMEOUT_MS = 60_000;

let server: ServerProcess;
/** Its workers once started (read before request lines push the start-up out of the log's tail). */
let startedWorkers: number[];
let git: GitClient;
before(async () => {
  server = await startServer({
    GITFLEET_WORKERS: String(WORKERS),
    GITFLEET_LOGIN_FAILURES_PER_USER: String(FAILURES_PER_USER),
    // The workers take turns, so that requests sent one after another reach both (the default
    // lets an idle worker take whatever comes, which may be the same one every time).
    NODE_CLUSTER_SCHED_POLICY: 'rr',
  });
  startedWorkers = workersOf(server);
  git = await GitClient.create(2);
});
after(async () => {
  await server?.stop();
  await git?.cleanup();
});
const it = serverTest(() => server);

it('serves requests from every worker, and what one accepts the other serves at once', async () => {
  assert.equal(startedWorkers.length, WORKERS);
  const url = await server.createRepo('e2e', 'cluster-push');
  const work = await git.init('cluster-work');
  // Every push and fetch is several requests on new connections, which go to the workers in
  // turn: pushes land on both, and reads follow them on both.
  for (let round = 1; round <= 6; round++) {
    const head = await git.commitFiles(work, { 'round.txt': `round ${round}\n` }, `round ${round}`);
    await git.ok(['push', url, 'main'], { cwd: work });
    assert.equal((await remoteRefs(git, url)).get('refs/heads/main'), head, `round ${round}: ls-remote right after the push`);
    const clone = await git.clone(url, `cluster-clone-${round}`);
    assert.equal(await git.revParse(clone, 'HEAD'), head, `round ${round}: clone right after the push`);
  }
  const servedBy = new Set(
    server
      .logTail()
      .split('\n')
      .flatMap((line) => {
        const match = /"worker":(\d+).*"msg":"request"/.exec(line);
        return match ? [match[1]] : [];
      }),
  );
  assert.deepEqual([...servedBy].sort(), ['0', '1'], 'requests were answered by both workers');
});

it('answers /metrics for the whole machine, whichever worker takes the scrape', async () => {
  for (let scrape = 0; scrape < 2; scrape++) {
    const answer = await fetch(`${server.url}/metrics`, { headers: { connection: 'close' } });
    assert.equal(answer.status, 200);
    const text = await answer.text();
    const workers = new Set([...text.matchAll(/^gitfleet_event_loop_utilization\{worker="(\d+)"\}/gm)].map((match) => match[1]));
    assert.equal(workers.size, WORKERS, 'a series of each worker');
    // The six pushes of the first test landed on both workers: a series each, adding up to six.
    const lines = text.split('\n').filter((line) => line.startsWith('gitfleet_git_operations_total'));
    const pushes = [
      ...text.matchAll(/^gitfleet_git_operations_total\{service="receive-pack",protocol="v0",outcome="ok",worker="(\d+)"\} (\d+)/gm),
    ];
    assert.equal(pushes.length, WORKERS, lines.join('\n'));
    assert.equal(
      pushes.reduce((sum, match) => sum + Number(match[2]), 0),
      6,
      lines.join('\n'),
    );
  }
});

it('has every worker load the sidecars of a repository that one of them repacked, before a clone asks for them', async () => {
  const url = await server.createRepo('e2e', 'cluster-warm');
  const work = await git.init('cluster-warm-work');
  // Enough objects that automatic maintenance finds a full repack worth it (fullRepackMinObjects).
  const files = Array.from({ length: FULL_REPACK_FILES }, (_, i) => `M 100644 inline file-${i}.txt\ndata <<END\nfile ${i}\nEND\n`);
  await git.ok(['fast-import', '--quiet'], {
    cwd: work,
    input: `commit refs/heads/main\ncommitter E2E <e2e@example.test> 1700000000 +0000\ndata 5\nmany\n${files.join('')}\n`,
  });
  await git.ok(['push', url, 'main'], { cwd: work });
  const warmedBy = async (): Promise<string[]> => {
    const repacked = /"repo":"([0-9a-f]+)".*"action":"full".*"msg":"repository maintained"/.exec(server.logTail())?.[1];
    if (repacked === undefined) return [];
    const loaded = new RegExp(`"worker":(\\d+),"repo":"${repacked}","msg":"loaded the sidecars of a repacked repository"`, 'g');
    return [...new Set([...server.logTail().matchAll(loaded)].map((match) => match[1]))].sort();
  };
  const deadline = Date.now() + WARM_TIMEOUT_MS;
  while ((await warmedBy()).length < WORKERS && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(await warmedBy(), ['0', '1'], server.logTail().split('\n').slice(-20).join('\n'));
});

it('counts failed logins for the whole machine, not per worker', async () => {
  await server.ensureUser('cluster-guessed');
  const statuses: number[] = [];
  for (let attempt = 0; attempt < 2 * FAILURES_PER_USER; attempt++) {
    statuses.push(await statusOnNewConnection(`${server.url}/api/v1/user`, 'cluster-guessed', `wrong-${attempt}`));
  }
  assert.deepEqual(statuses, [...Array(FAILURES_PER_USER).fill(401), ...Array(FAILURES_PER_USER).fill(429)]);
});

it('replaces a worker that dies while the other keeps serving', async () => {
  const url = await server.createRepo('e2e', 'cluster-replace');
  const work = await git.init('cluster-replace-work');
  const head = await git.commitFiles(work, { 'a.txt': 'a\n' }, 'first');
  await git.ok(['push', url, 'main'], { cwd: work });

  const [victim, survivor] = startedWorkers;
  process.kill(victim, 'SIGKILL');
  await waitFor(
    () => (server.logTail().includes(`"worker_pid":${victim},"exit":"signal SIGKILL"`) ? true : undefined),
    REPLACEMENT_TIMEOUT_MS,
  );
  // Until the replacement listens, connections go to the worker that is left.
  for (let i = 0; i < 4; i++) assert.equal((await remoteRefs(git, url)).get('refs/heads/main'), head);
  const replaced = await waitFor(() => {
    const replacement = workersOf(server).find((pid) => !startedWorkers.includes(pid));
    return replacement === undefined ? undefined : [survivor, replacement].filter(isRunning);
  }, REPLACEMENT_TIMEOUT_MS);
  assert.deepEqual(replaced.length, WORKERS, 'the other worker kept running beside the replacement');
  assert.ok(!isRunning(victim));
  const clone = await git.clone(url, 'cluster-replace-clone');
  assert.equal(await git.revParse(clone, 'HEAD'), head);
});

it('fails to start, saying why, when the port is taken', async () => {
  const port = new URL(server.url).port;
  const dataDir = await mkdtemp(join(tmpdir(), 'gitfleet-cluster-port-'));
  try {
    const run = await runCli(['serve'], { GITFLEET_WORKERS: String(WORKERS), HOST: '127.0.0.1', PORT: port, GITFLEET_DATA_DIR: dataDir });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, new RegExp(`EADDRINUSE 127\\.0\\.0\\.1:${port}`));
    assert.match(run.stderr, /worker \d \(pid \d+\) exited during start-up \(code 1; its error is above\)/);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

it('has each worker allocate from one malloc arena, so that memory one thread frees is reused by all', async () => {
  const workers = childrenOf(server.pid);
  assert.equal(workers.length, WORKERS);
  for (const pid of workers) {
    const environment = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    assert.ok(environment.includes('MALLOC_ARENA_MAX=1'), `worker ${pid} was started without MALLOC_ARENA_MAX=1`);
  }
});

it('starts each worker with an old generation of its initial size, so that V8 does not mark its small heap over and over', async () => {
  const workers = childrenOf(server.pid);
  assert.equal(workers.length, WORKERS);
  for (const pid of workers) {
    const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    assert.ok(
      commandLine.some((argument) => /^--initial-old-space-size=\d+$/.test(argument)),
      `worker ${pid} was started as ${commandLine.join(' ')}`,
    );
  }
});

it('ends every worker when the primary is killed', async () => {
  const own = await startServer({ GITFLEET_WORKERS: String(WORKERS) });
  try {
    const workers = workersOf(own);
    assert.equal(workers.length, WORKERS);
    await own.kill('SIGKILL');
    await waitFor(() => (workers.every((pid) => !isRunning(pid)) ? true : undefined), 10_000);
  } finally {
    await own.stop();
  }
});

it('stops every worker and exits cleanly on SIGTERM', async () => {
  const own = await startServer({ GITFLEET_WORKERS: String(WORKERS) });
  try {
    const workers = workersOf(own);
    await own.kill('SIGTERM');
    assert.match(own.logTail(), /server exited \(code 0, signal null\)/);
    assert.ok(
      workers.every((pid) => !isRunning(pid)),
      'no worker outlives its primary',
    );
  } finally {
    await own.stop();
  }
});

/** The status of a GET with Basic credentials, on a connection of its own (the primary hands each to the next worker). */
function statusOnNewConnection(url: string, user: string, password: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false, auth: `${user}:${password}` }, (response) => {
      response.resume();
      response.once('end', () => resolve(response.statusCode ?? 0));
    });
    request.once('error', reject);
  });
}

/** A process's children, read from the kernel: by now the log's tail may have lost the workers' start-up lines. */
function childrenOf(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
}

/** The running workers of `server`, slot by slot, as its primary logs them ("worker started"). */
function workersOf(server: ServerProcess): number[] {
  const pidBySlot = new Map<number, number>();
  for (const line of server.logTail().split('\n')) {
    const match = /"slot":(\d+),"worker_pid":(\d+),"msg":"worker started"/.exec(line);
    if (match) pidBySlot.set(Number(match[1]), Number(match[2]));
  }
  return [...pidBySlot.values()].filter(isRunning);
}

function isRunning(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return state.slice(state.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not so within ${timeoutMs} ms`);
    await new Promise((done) => setTimeout(done, 100));
  }
}
