/**
 * The benchmark: Gitfleet (files + SQLite, and S3 + Redis), C git's http-backend behind lighttpd
 * (as pushed, and repacked with bitmaps) and node-git-server on loopback, the same git operations
 * against each, their repetitions interleaved across the servers. One table per repository.
 *
 * The maintenance and bitmaps figures (gitfleet-s3 needs the shared S3 and Redis: source /work/servers/*.env):
 *   pnpm bench --repo git --servers gitfleet,gitfleet-s3,http-backend,http-backend-bitmaps
 *   pnpm bench --repo express
 *   pnpm bench --repo pushes --pushes 1000 --maintenance auto --servers gitfleet,gitfleet-repacked,http-backend,http-backend-bitmaps
 *     (gitfleet: maintenance left to itself; gitfleet-repacked: the same pushes, then `maintenance run --full`)
 * Worker counts: gitfleet-1w and gitfleet-s3-1w are gitfleet and gitfleet-s3 as one process
 * (GITFLEET_WORKERS=1), gitfleet-2w and gitfleet-s3-2w as two workers, each compared with the default
 * (one process up to two cores, else one worker per core) in its own column. On two cores:
 *   pnpm bench --repo generated --ops "concurrent pushers" --servers gitfleet,gitfleet-2w,gitfleet-s3,gitfleet-s3-2w,http-backend
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { completeRefs } from './complete-refs.js';
import { killAllDaemonsNow } from './daemon.js';
import { killRunningCommands, tail } from './exec.js';
import { generatedRepository } from './generate.js';
import { GitClient } from './git-client.js';
import { MAINTENANCE_MODES, type MaintenanceMode } from './maintenance.js';
import { FULL_CLONE, operations, ServerState, type Source, type Timing } from './operations.js';
import { pushesRepository } from './pushes.js';
import { RssSampler } from './rss.js';
import {
  startGitfleet,
  startGitfleetRepacked,
  startGitfleetOneWorker,
  startGitfleetTwoWorkers,
  startGitfleetS3,
  startGitfleetS3OneWorker,
  startGitfleetS3TwoWorkers,
  startHttpBackend,
  startHttpBackendBitmaps,
  startNodeGitServer,
  type BenchServer,
  type ServerDirs,
  type ServerName,
  type ServerSettings,
} from './servers.js';
import { formatMemory, formatTable, formatThroughput, summarize, type Measurement } from './stats.js';

const SERVER_STARTERS: Record<ServerName, (dirs: ServerDirs, settings: ServerSettings) => Promise<BenchServer>> = {
  gitfleet: startGitfleet,
  'gitfleet-1w': startGitfleetOneWorker,
  'gitfleet-2w': startGitfleetTwoWorkers,
  'gitfleet-repacked': startGitfleetRepacked,
  'gitfleet-s3': startGitfleetS3,
  'gitfleet-s3-1w': startGitfleetS3OneWorker,
  'gitfleet-s3-2w': startGitfleetS3TwoWorkers,
  'http-backend': startHttpBackend,
  'http-backend-bitmaps': startHttpBackendBitmaps,
  'node-git-server': startNodeGitServer,
};
const ALL_SERVERS = Object.keys(SERVER_STARTERS) as ServerName[];
/** gitfleet-repacked only when asked for: it is the yardstick of --maintenance auto, a run's worth more of pushes. */
const DEFAULT_SERVERS = ALL_SERVERS.filter(
  (name) => !['gitfleet-repacked', 'gitfleet-1w', 'gitfleet-2w', 'gitfleet-s3-1w', 'gitfleet-s3-2w'].includes(name),
);
/** Servers that can run as several processes over shared stores. */
const SCALABLE_SERVERS: readonly ServerName[] = ['gitfleet-s3', 'gitfleet-s3-1w', 'gitfleet-s3-2w'];
/** Repositories known by name; anything else given to --repo is a path to a bare repository. */
const NAMED_REPOS = ['git', 'express', 'pushes', 'generated'] as const;

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
    'Times clone, fetch and push against Gitfleet (files + SQLite; S3 + Redis), git http-backend (as pushed, and repacked with bitmaps) and node-git-server on 127.0.0.1.',
  )
  .option(
    '--repo <list>',
    `repositories, comma-separated, each run on fresh servers and reported in a table of its own: ${NAMED_REPOS.join(', ')} ` +
      '(git: git.git, express: expressjs/express, the mirrors below; pushes: a history loaded by --pushes single-commit pushes; ' +
      'generated: made once with git fast-import, cached in .bench/) or a path to a bare repository',
    list,
    ['generated'],
  )
  .option('--git-mirror <path>', "bare mirror of git's own history (--repo git)", '/work/.mirror/git+git/repo')
  .option('--express-mirror <path>', 'bare mirror of expressjs/express (--repo express)', '/work/.mirror/expressjs+express/repo')
  .option('--pushes <n>', 'single-commit pushes that load --repo pushes', positiveInt, 1000)
  .addOption(
    new Option(
      '--maintenance <mode>',
      "how Gitfleet's repository is readied after loading: full = `gitfleet maintenance run --full`, auto = wait until automatic maintenance is idle, none = as pushed",
    )
      .choices(MAINTENANCE_MODES)
      .default('auto'),
  )
  .option('--refs <all|list>', 'which refs to push: "all" (git push --mirror), or namespaces under refs/, e.g. heads,tags', 'all')
  .option('--repeat <n>', 'repetitions of each operation', positiveInt, 3)
  .option('--push-repeat <n>', 'repetitions of the full push (the first one loads the repository)', positiveInt, 1)
  .option('--parallel <counts>', 'parallel clone counts, or "none"', (v) => (v === 'none' ? [] : list(v).map(positiveInt)), [8, 32])
  .option('--parallel-repeat <n>', 'repetitions of each parallel clone run (default: --repeat)', positiveInt)
  .option('--scale-out <n>', 'server processes of the scaled-out parallel clones (gitfleet-s3); 1 = none', positiveInt, 3)
  .addOption(
    new Option('--servers <list>', `servers to run, of ${ALL_SERVERS.join(', ')}`).default(DEFAULT_SERVERS).argParser((v) => {
      const names = list(v);
      const unknown = names.filter((n) => !ALL_SERVERS.includes(n as ServerName));
      if (unknown.length) throw new InvalidArgumentError(`unknown server(s) ${unknown.join(', ')}; known: ${ALL_SERVERS.join(', ')}`);
      return names as ServerName[];
    }),
  )
  .option(
    '--ops <words>',
    'run only operations whose name contains one of these words, e.g. clone,fetch or ls-remote,parallel (loading and readying the repository always run)',
    list,
  )
  .option('--timeout <seconds>', 'time limit of each git command', positiveInt, 1800)
  .option('--keep', "keep the servers' data (work directory under .bench/, S3 objects, Redis keys); logs are always kept")
  .parse();

interface Options {
  repo: string[];
  gitMirror: string;
  expressMirror: string;
  pushes: number;
  maintenance: MaintenanceMode;
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

/** One repository's run: its report section and what the results file keeps of it. */
interface RepositoryRun {
  report: string;
  results: Record<string, unknown>;
}

async function main(options: Options): Promise<void> {
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const runDir = path.join(benchDir, `run-${stamp}`);
  const git = new GitClient(options.timeout * 1000);
  const gitVersion = (await git.git(['--version'])).stdout.trim();
  const commandLine = ['tsx', 'scripts/bench/run.ts', ...process.argv.slice(2)].map(shellQuote).join(' ');
  const header = [
    `command: \`${commandLine}\``,
    `${startedAt.toISOString()}, ${os.cpus().length} CPU cores, load average ${os.loadavg()[0].toFixed(2)} at start, ${gitVersion}, node ${process.version}`,
    `servers ${options.servers.join(', ')}; Gitfleet maintenance: ${options.maintenance}; repetitions interleaved across servers (A B C, A B C…)`,
  ].join('\n');
  process.stderr.write(`${header}\n`);

  const sections: string[] = [header];
  const results: Record<string, unknown>[] = [];
  for (const [index, choice] of options.repo.entries()) {
    const workDir = path.join(runDir, `${index + 1}-${path.basename(choice).replace(/[^\w.-]/g, '_')}`);
    const outcome = await runRepository(options, git, choice, workDir, `${stamp}-${process.pid}-${index + 1}`);
    if (!outcome) return;
    sections.push(outcome.report);
    results.push(outcome.results);
    await writeFile(path.join(runDir, 'report.md'), `${sections.join('\n\n')}\n`);
  }
  const report = sections.join('\n\n');
  process.stdout.write(`${report}\n`);

  const resultsFile = path.join(benchDir, `results-${stamp}.json`);
  await writeFile(
    resultsFile,
    JSON.stringify(
      {
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        commandLine,
        options,
        cpus: os.cpus().length,
        gitVersion,
        repositories: results,
      },
      null,
      2,
    ),
  );
  log(`results written to ${resultsFile}`);
  log(`logs and report kept in ${runDir}`);
}

/** Loads one repository into fresh servers, runs every operation on them, and stops them; undefined when interrupted. */
async function runRepository(
  options: Options,
  git: GitClient,
  choice: string,
  workDir: string,
  runId: string,
): Promise<RepositoryRun | undefined> {
  const logDir = path.join(workDir, 'logs');
  await mkdir(logDir, { recursive: true });
  const source = await resolveSource(git, options, choice);
  // The origin: a view of it borrows its objects (alternates), which count-objects leaves out.
  const objectCount = await countObjects(git, source.origin);
  const refCount = (await git.git(['--git-dir', source.gitDir, 'for-each-ref', '--format=x'])).stdout.split('\n').filter(Boolean).length;
  const loading = source.pushCommits
    ? `${source.pushCommits.length} single-commit pushes of ${source.branch}`
    : `${source.mirror ? 'git push --mirror' : `push of ${source.refspecs.join(' ')}`}`;
  const leftOut = source.leftOut.length
    ? `; pushed from ${source.gitDir}, without ${source.leftOut.length} refs whose history misses objects in the mirror (${source.leftOut.slice(0, 3).join(', ')}…)`
    : '';
  const title = `repository ${choice}: ${source.origin} (${objectCount} objects, ${refCount} refs), loaded by ${loading}${leftOut}`;
  log(title);
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
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted = true;
    log(`${signal}: stopping the servers`);
    killRunningCommands();
    void stopAll()
      .then(disposeAll)
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const settings: ServerSettings = { maintenance: options.maintenance, timeoutMs: options.timeout * 1000 };
  for (const name of options.servers) {
    const serverDir = path.join(workDir, name);
    await mkdir(path.join(serverDir, 'client'), { recursive: true });
    try {
      const server = await SERVER_STARTERS[name]({ workDir: serverDir, logDir, runId }, settings);
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
  }).filter((op) => op.always || !options.ops || op.names.some((name) => options.ops!.some((word) => name.includes(word))));
  try {
    for (const [index, op] of ops.entries()) {
      if (interrupted) return undefined;
      const taking = options.servers.filter((name) => !op.servers || op.servers.includes(name));
      const rowsOf = new Map<ServerName, Measurement[]>();
      for (const name of taking) {
        const rows: Measurement[] = op.names.map((opName) => ({
          op: opName,
          server: name,
          seconds: [],
          cpuSeconds: [],
          attempts: 0,
          peakRssBytes: 0,
          ...(op.throughput && { throughput: op.throughput }),
          ...(op.completes && { completes: op.completes }),
        }));
        measurements.push(...rows);
        rowsOf.set(name, rows);
      }
      // Servers still running this operation: one that fails is left out of its later repetitions.
      const active = new Map<ServerName, ServerState>();
      for (const name of taking) {
        const state = states.find((s) => s.server.name === name);
        if (!state) {
          for (const row of rowsOf.get(name)!) row.error = `server did not start: ${startErrors.get(name)}`;
          continue;
        }
        try {
          await op.prepare?.(state);
          active.set(name, state);
        } catch (error) {
          for (const row of rowsOf.get(name)!) row.error = `set-up failed: ${message(error)}`;
        }
        sampler.resetWindow(name);
      }
      // Interleaved (A B C, A B C…): a slow spell of the shared machine falls on every server alike.
      for (let repetition = 0; repetition < op.repetitions && active.size > 0; repetition++) {
        for (const [name, state] of active) {
          if (interrupted) return undefined;
          const rows = rowsOf.get(name)!;
          for (const row of rows) row.attempts += 1;
          try {
            const dead = state.daemons.find((daemon) => !daemon.alive);
            if (dead) throw new Error(`server process ${dead.name} exited with ${dead.exitStatus} (see ${dead.logFile})`);
            const timings = await op.run(state, repetition);
            timings.forEach((timing, i) => record(rows[i], timing));
          } catch (error) {
            // Recorded, not fatal: the other servers and operations still run. Later repetitions would fail alike.
            for (const row of rows) row.error = message(error);
            active.delete(name);
          }
        }
      }
      sampler.sample();
      for (const name of taking) {
        for (const row of rowsOf.get(name)!) {
          const peak = sampler.windowPeak(name);
          row.peakRssBytes = peak.tree;
          row.peakProcessRssBytes = peak.process;
          const summary = summarize(row.seconds);
          const figures = summary
            ? `min ${summary.min.toFixed(3)}s median ${summary.median.toFixed(3)}s max ${summary.max.toFixed(3)}s`
            : 'not timed';
          const notes = [row.note, rateAtMedian(row), row.error && `FAILED: ${row.error.split('\n')[0]}`].filter(Boolean).join(' · ');
          log(`[${index + 1}/${ops.length}] ${row.op} · ${name}: ${figures}${notes ? ` · ${notes}` : ''}`);
        }
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
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
  const notes = measurements.flatMap((m) => {
    const rate = rateAtMedian(m);
    const note = [m.note, rate].filter(Boolean).join(' · ');
    return note ? [{ op: m.op, server: m.server, note }] : [];
  });
  const hasThroughput = measurements.some((m) => m.throughput);
  const report = [
    `## ${title}`,
    '',
    `repeat ${options.repeat}, full push ${options.pushRepeat}, parallel clones ${options.parallelRepeat ?? options.repeat}; ` +
      'seconds: median [min–max] of the repetitions; × pushed / bitmaps: ratio of medians to http-backend as pushed / to http-backend-bitmaps (repacked with bitmaps after loading); ' +
      '× repacked: to gitfleet-repacked (`gitfleet maintenance run --full` after loading); ' +
      "CPU s: median user + system seconds of the server's processes (lighttpd: with its reaped git children)",
    '',
    formatTable(measurements, options.servers, FULL_CLONE),
    ...(notes.length ? ['', 'notes:', ...notes.map((n) => `- ${n.op} · ${n.server}: ${n.note}`)] : []),
    '',
    'Peak memory over the whole run:',
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
  await writeFile(path.join(workDir, 'report.md'), `${report}\n`);
  if (options.keep) log(`work directory kept: ${workDir}`);
  else await Promise.all(options.servers.map((name) => rm(path.join(workDir, name), { recursive: true, force: true })));
  return {
    report,
    results: {
      repository: choice,
      source: { ...source, pushCommits: source.pushCommits?.length },
      objectCount,
      refCount,
      measurements,
      memory,
      processes,
    },
  };
}

/** "N <what>/s" at the median time of a row whose repetitions each complete a known count. */
function rateAtMedian(m: Measurement): string | undefined {
  const median = summarize(m.seconds)?.median;
  if (!m.completes || median === undefined) return undefined;
  return `${(m.completes.count / median).toFixed(0)} ${m.completes.what}/s (at the median time)`;
}

function record(row: Measurement, timing: Timing): void {
  if (timing.note !== undefined) row.note = timing.note;
  if (timing.seconds === undefined) return;
  row.seconds.push(timing.seconds);
  if (timing.cpuSeconds !== undefined) row.cpuSeconds.push(timing.cpuSeconds);
}

/** The bare repository a --repo choice names, checked, with what to push of it. */
async function resolveSource(git: GitClient, options: Options, choice: string): Promise<Source & { origin: string; leftOut: string[] }> {
  const origin = await repositoryPath(options, choice);
  const { gitDir, leftOut } = await completeRefs(git, origin, benchDir);
  // Not --is-bare-repository: a mirror without a config file (core.bare unset) is bare yet answers false.
  await git.git(['--git-dir', gitDir, 'rev-parse', '--absolute-git-dir']).catch((error: unknown) => {
    throw new Error(`--repo ${choice}: ${gitDir} is not a git repository: ${message(error)}`);
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
  if (!branch) throw new Error(`--repo ${choice}: no branch to push commits onto`);
  if (!refPrefixes.some((prefix) => `refs/heads/${branch}`.startsWith(prefix)))
    throw new Error(`--refs ${options.refs} does not include branches`);
  const pushCommits =
    choice === 'pushes'
      ? (await git.git(['--git-dir', gitDir, 'rev-list', '--reverse', '--first-parent', branch])).stdout.split('\n').filter(Boolean)
      : undefined;
  return { gitDir, refspecs, refPrefixes, branch, mirror: namespaces === undefined, pushCommits, origin, leftOut };
}

async function repositoryPath(options: Options, choice: string): Promise<string> {
  const mirror = (name: string, dir: string, github: string, flag: string) => {
    if (existsSync(dir)) return dir;
    throw new Error(
      `--repo ${name}: no bare mirror at ${dir}. Mirrors are not part of the project: bring one there (a snapshot of ` +
        `github:${github}, or \`git clone --mirror https://github.com/${github}.git ${dir}\`) or name yours with ${flag} PATH`,
    );
  };
  switch (choice) {
    case 'generated':
      return generatedRepository(benchDir);
    case 'pushes':
      return pushesRepository(benchDir, options.pushes);
    case 'git':
      return mirror('git', path.resolve(options.gitMirror), 'git/git', '--git-mirror');
    case 'express':
      return mirror('express', path.resolve(options.expressMirror), 'expressjs/express', '--express-mirror');
    default: {
      const dir = path.resolve(choice);
      if (!existsSync(dir)) throw new Error(`--repo ${choice}: ${dir} does not exist (named repositories: ${NAMED_REPOS.join(', ')})`);
      return dir;
    }
  }
}

/** A word as a POSIX shell reads it back: the printed command line can be pasted. */
function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
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

process.once('exit', () => {
  killRunningCommands();
  killAllDaemonsNow();
});

main(program.opts<Options>()).catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  killAllDaemonsNow();
  process.exitCode = 1;
});
