// The benchmark: Gitfleet (files + SQLite, and S3 + Redis), git http-backend (lighttpd) and node-git-server on loopback, the same git operations against each.
import { Command, InvalidArgumentError, Option } from 'commander';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { killAllDaemonsNow } from './daemon.js';
import { killRunningCommands, tail } from './exec.js';
import { generatedRepository } from './generate.js';
import { GitClient } from './git-client.js';
import { operations, ServerState, type Source } from './operations.js';
import { RssSampler } from './rss.js';
import {
  startGitfleet,
  startGitfleetS3,
  startHttpBackend,
  startNodeGitServer,
  type BenchServer,
  type ServerDirs,
  type ServerName,
} from './servers.js';
import { formatMemory, formatTable, formatThroughput, summarize, type Measurement } from './stats.js';

const SERVER_STARTERS: Record<ServerName, (dirs: ServerDirs) => Promise<BenchServer>> = {
  gitfleet: startGitfleet,
  'gitfleet-s3': startGitfleetS3,
  'http-backend': startHttpBackend,
  'node-git-server': startNodeGitServer,
};
const ALL_SERVERS = Object.keys(SERVER_STARTERS) as ServerName[];
/** Servers that can run as several processes over shared stores. */
const SCALABLE_SERVERS: readonly ServerName[] = ['gitfleet-s3'];

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const benchDir = path.join(projectRoot, '.bench');

const positiveInt = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
};
const list = (value: string) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

const program = new Command('bench')
  .description(
    'Times clone, fetch and push against Gitfleet (files + SQLite; S3 + Redis), git http-backend and node-git-server on 127.0.0.1.',
  )
  .option(
    '--repo <generated|path>',
    'the repository: "generated" (made once with git fast-import, cached in .bench/) or a path to a bare repository',
    'generated',
  )
  .option('--refs <all|list>', 'which refs to push: "all", or namespaces under refs/, e.g. heads,tags', 'all')
  .option('--repeat <n>', 'repetitions of each operation', positiveInt, 3)
  .option('--push-repeat <n>', 'repetitions of the full push (the first one loads the repository)', positiveInt, 1)
  .option('--parallel <counts>', 'parallel clone counts, or "none"', (v) => (v === 'none' ? [] : list(v).map(positiveInt)), [8, 32])
  .option('--parallel-repeat <n>', 'repetitions of each parallel clone run (default: --repeat)', positiveInt)
  .option('--scale-out <n>', 'server processes of the scaled-out parallel clones (gitfleet-s3); 1 = none', positiveInt, 3)
  .addOption(
    new Option('--servers <list>', `servers to run, of ${ALL_SERVERS.join(', ')}`).default(ALL_SERVERS).argParser((v) => {
      const names = list(v);
      const unknown = names.filter((n) => !ALL_SERVERS.includes(n as ServerName));
      if (unknown.length) throw new InvalidArgumentError(`unknown server(s) ${unknown.join(', ')}; known: ${ALL_SERVERS.join(', ')}`);
      return names as ServerName[];
    }),
  )
  .option(
    '--ops <words>',
    'run only operations whose name contains one of these words, e.g. clone,fetch or ls-remote,parallel (the full push always runs: it loads the repository)',
    list,
  )
  .option('--timeout <seconds>', 'time limit of each git command', positiveInt, 1800)
  .option('--keep', "keep the servers' data (work directory under .bench/, S3 objects, Redis keys); logs are always kept")
  .parse();

interface Options {
  repo: string;
  refs: string;
  repeat: number;
  pushRepeat: number;
  parallel: number[];
  parallelRepeat?: number;
  scaleOut: number;
  servers: ServerName[];
  ops?: string[];
  timeout: number;
  keep?: boolean;
}

async function main(options: Options): Promise<void> {
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const workDir = path.join(benchDir, `run-${stamp}`);
  const logDir = path.join(workDir, 'logs');
  await mkdir(logDir, { recursive: true });
  // With the pid: two runs started in the same millisecond still get their own S3 prefix and Redis namespace.
  const runId = `${stamp}-${process.pid}`;
  const git = new GitClient(options.timeout * 1000);
  const source = await resolveSource(git, options);
  const objectCount = await countObjects(git, source.gitDir);
  log(`repository ${source.gitDir}: ${objectCount} objects, pushing ${source.refspecs.join(' ')}`);
  log(`server logs in ${logDir}`);

  const states: ServerState[] = [];
  const startErrors = new Map<ServerName, string>();
  const stopAll = () => Promise.all(states.flatMap((s) => s.daemons.map((daemon) => daemon.stop())));
  // Data a server left outside the work directory (gitfleet-s3: S3 objects, Redis keys), once its processes are stopped.
  const disposeAll = async () => {
    if (options.keep) return;
    for (const state of states) {
      await state.server.dispose?.().catch((error: unknown) => log(`${state.server.name}: could not delete its data: ${message(error)}`));
    }
  };
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      interrupted = true;
      log(`${signal}: stopping the servers`);
      killRunningCommands();
      void stopAll()
        .then(disposeAll)
        .finally(() => process.exit(130));
    });
  }
  process.once('exit', () => {
    killRunningCommands();
    killAllDaemonsNow();
  });

  for (const name of options.servers) {
    const serverDir = path.join(workDir, name);
    await mkdir(path.join(serverDir, 'client'), { recursive: true });
    try {
      const server = await SERVER_STARTERS[name]({ workDir: serverDir, logDir, runId });
      states.push(new ServerState(server, path.join(serverDir, 'client')));
      log(`${name} started (pid ${server.daemon.pid})`);
    } catch (error) {
      startErrors.set(name, message(error));
      log(`${name} did not start: ${message(error)}`);
    }
  }

  const sampler = new RssSampler(() =>
    states.map((s) => ({ name: s.server.name, pids: s.daemons.filter((d) => d.alive).map((d) => d.pid) })),
  );
  sampler.start();
  const measurements: Measurement[] = [];
  const ops = operations({
    git,
    source,
    repeat: options.repeat,
    pushRepeat: options.pushRepeat,
    parallel: options.parallel,
    parallelRepeat: options.parallelRepeat ?? options.repeat,
    scaleOut: { processes: options.scaleOut, servers: options.scaleOut > 1 ? SCALABLE_SERVERS : [] },
  }).filter((op, index) => index === 0 || !options.ops || op.names.some((name) => options.ops!.some((word) => name.includes(word))));
  try {
    for (const [index, op] of ops.entries()) {
      for (const name of options.servers) {
        if (interrupted) return;
        if (op.servers && !op.servers.includes(name)) continue;
        const state = states.find((s) => s.server.name === name);
        const rows: Measurement[] = op.names.map((opName) => ({
          op: opName,
          server: name,
          seconds: [],
          attempts: 0,
          peakRssBytes: 0,
          ...(op.throughput && { throughput: op.throughput }),
        }));
        measurements.push(...rows);
        if (!state) {
          for (const row of rows) row.error = `server did not start: ${startErrors.get(name)}`;
          continue;
        }
        let prepareError: string | undefined;
        await op.prepare?.(state).catch((error: unknown) => (prepareError = `set-up failed: ${message(error)}`));
        sampler.resetWindow(name);
        for (let repetition = 0; repetition < op.repetitions && prepareError === undefined; repetition++) {
          for (const row of rows) row.attempts += 1;
          try {
            const dead = state.daemons.find((daemon) => !daemon.alive);
            if (dead) throw new Error(`server process ${dead.name} exited with ${dead.exitStatus} (see ${dead.logFile})`);
            const seconds = await op.run(state, repetition);
            seconds.forEach((s, i) => rows[i].seconds.push(s));
          } catch (error) {
            // Recorded, not fatal: the other servers and operations still run. Later repetitions would fail alike.
            for (const row of rows) row.error = message(error);
            break;
          }
        }
        sampler.sample();
        for (const row of rows) {
          if (prepareError !== undefined) row.error = prepareError;
          row.peakRssBytes = sampler.windowPeak(name);
          const summary = summarize(row.seconds);
          const figures = summary
            ? `min ${summary.min.toFixed(3)}s median ${summary.median.toFixed(3)}s max ${summary.max.toFixed(3)}s`
            : 'no successful run';
          log(`[${index + 1}/${ops.length}] ${row.op} · ${name}: ${figures}${row.error ? ` · FAILED: ${row.error.split('\n')[0]}` : ''}`);
        }
      }
    }
  } finally {
    sampler.sample();
    sampler.stop();
    await stopAll();
    await disposeAll();
  }

  const memory = states.map((s) => ({ server: s.server.name, ...sampler.peaksOf(s.server.name) }));
  const processes = states.flatMap((s) =>
    s.daemons.map((d) => ({ server: s.server.name, process: d.name, pid: d.pid, exitStatus: d.exitStatus, logFile: d.logFile })),
  );
  const failures = measurements.filter((m) => m.error !== undefined);
  const hasThroughput = measurements.some((m) => m.throughput);
  const report = [
    `repository: ${source.gitDir} (${objectCount} objects; refs pushed: ${source.refspecs.join(' ')}); repeat ${options.repeat}, full push ${options.pushRepeat}, parallel clones ${options.parallelRepeat ?? options.repeat}`,
    '',
    formatTable(measurements),
    '',
    formatMemory(memory),
    ...(hasThroughput
      ? [
          '',
          `Parallel-clone throughput (the clients and every server process share this machine's ${os.cpus().length} CPU cores):`,
          '',
          formatThroughput(measurements),
        ]
      : []),
    ...(failures.length ? ['', 'failures:', ...failures.map((f) => `- ${f.op} · ${f.server}: ${tail(f.error!, 1500)}`)] : []),
  ].join('\n');
  process.stdout.write(`${report}\n`);
  await writeFile(path.join(workDir, 'report.md'), `${report}\n`);

  const resultsFile = path.join(benchDir, `results-${stamp}.json`);
  await writeFile(
    resultsFile,
    JSON.stringify(
      {
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        options,
        cpus: os.cpus().length,
        source,
        objectCount,
        measurements,
        memory,
        processes,
      },
      null,
      2,
    ),
  );
  log(`results written to ${resultsFile}`);
  if (options.keep) log(`work directory kept: ${workDir}`);
  else await Promise.all(options.servers.map((name) => rm(path.join(workDir, name), { recursive: true, force: true })));
  log(`logs and report kept in ${workDir}`);
}

async function resolveSource(git: GitClient, options: Options): Promise<Source> {
  const gitDir = options.repo === 'generated' ? await generatedRepository(benchDir) : path.resolve(options.repo);
  if (!existsSync(gitDir)) throw new Error(`--repo ${options.repo}: ${gitDir} does not exist`);
  // Not --is-bare-repository: a mirror without a config file (core.bare unset) is bare yet answers false.
  await git.git(['--git-dir', gitDir, 'rev-parse', '--absolute-git-dir']).catch((error: unknown) => {
    throw new Error(`--repo ${options.repo}: ${gitDir} is not a git repository: ${message(error)}`);
  });
  const namespaces = options.refs === 'all' ? undefined : list(options.refs);
  const refspecs = namespaces ? namespaces.map((ns) => `refs/${ns}/*:refs/${ns}/*`) : ['refs/*:refs/*'];
  const refPrefixes = namespaces ? namespaces.map((ns) => `refs/${ns}/`) : ['refs/'];
  const head = await git.git(['--git-dir', gitDir, 'symbolic-ref', '--short', 'HEAD']).then(
    (r) => r.stdout.trim(),
    () => '',
  );
  const heads = (await git.git(['--git-dir', gitDir, 'for-each-ref', '--format=%(refname:short)', 'refs/heads/'])).stdout
    .split('\n')
    .filter(Boolean);
  const branch = heads.includes(head) ? head : heads[0];
  if (!branch) throw new Error(`--repo ${options.repo}: no branch to push commits onto`);
  if (!refPrefixes.some((prefix) => `refs/heads/${branch}`.startsWith(prefix)))
    throw new Error(`--refs ${options.refs} does not include branches`);
  return { gitDir, refspecs, refPrefixes, branch };
}

async function countObjects(git: GitClient, gitDir: string): Promise<number> {
  const output = (await git.git(['--git-dir', gitDir, 'count-objects', '-v'])).stdout;
  const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)`, 'm').exec(output)?.[1] ?? 0);
  return field('count') + field('in-pack');
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
}

main(program.opts<Options>()).catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  killAllDaemonsNow();
  process.exitCode = 1;
});
