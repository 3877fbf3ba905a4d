/**
 * Start-up time and idle memory of the server, run from its TypeScript sources and compiled:
 * for each way of starting it, the time from spawning the process to its "listening" log line
 * and to its first answered GET /healthz, then the summed RSS of its process tree after it has
 * idled. The ways run interleaved, one of each per round, so that the machine's load (two
 * shared cores) falls on each alike. Each start gets a fresh data directory.
 *
 *   tsx cli   `tsx server/src/cli.ts serve`: what `pnpm start` ran before the build (the tsx
 *             command runs the server in a child node process)
 *   tsx       `node --import tsx server/src/cli.ts serve`: the sources in one process
 *   compiled  `node <options> server/dist/cli.js serve`: what `pnpm start` runs, with its options
 *
 * A last row times `node scripts/build.mjs --if-stale` when the build is fresh: what `pnpm
 * start` adds before the server. The build is made fresh first.
 *
 * Usage: tsx scripts/bench/startup.ts [--runs N] [--idle-ms N]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort } from './daemon.js';
import { processTreeRss } from './rss.js';
import { startEnvironment, startNodeOptions } from './start-command.js';
import { markdownTable, summarize } from './stats.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const HEALTHZ_POLL_MS = 5;
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 10_000;

interface Variant {
  name: string;
  args: string[];
}

const VARIANTS: Variant[] = [
  { name: 'tsx cli', args: [fileURLToPath(import.meta.resolve('tsx/cli')), 'server/src/cli.ts', 'serve'] },
  { name: 'tsx', args: ['--import', 'tsx', 'server/src/cli.ts', 'serve'] },
  { name: 'compiled', args: [...startNodeOptions(), 'server/dist/cli.js', 'serve'] },
];

interface StartSample {
  listeningMs: number;
  healthzMs: number;
  idleRssBytes: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The environment of a measured server: this one's without Gitfleet settings, so every start is the embedded default. */
function serverEnv(port: number, dataDir: string): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('GITFLEET_')));
  return { ...env, ...startEnvironment(env), HOST: '127.0.0.1', PORT: String(port), GITFLEET_DATA_DIR: dataDir, LOG_LEVEL: 'info' };
}

async function healthzAnswers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url);
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false; // not listening yet
  }
}

/** Starts one server, measures it, stops it. */
async function measure(variant: Variant, idleMs: number): Promise<StartSample> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gitfleet-startup-'));
  const started = performance.now();
  // Its own process group, so that stopping it reaches tsx's child too and nothing else.
  const child = spawn(process.execPath, variant.args, {
    cwd: projectRoot,
    env: serverEnv(port, dataDir),
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const listening = new Promise<number>((resolve) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (line.includes('"msg":"listening"')) resolve(performance.now() - started);
      });
    });
    let healthzMs: number | undefined;
    while (healthzMs === undefined) {
      if (performance.now() - started > START_TIMEOUT_MS)
        throw new Error(`${variant.name}: /healthz did not answer within ${START_TIMEOUT_MS} ms`);
      if (child.exitCode !== null) throw new Error(`${variant.name}: the server exited (code ${child.exitCode}) before answering`);
      if (await healthzAnswers(`http://127.0.0.1:${port}/healthz`)) healthzMs = performance.now() - started;
      else await sleep(HEALTHZ_POLL_MS);
    }
    const listeningMs = await listening;
    await sleep(idleMs);
    return { listeningMs, healthzMs, idleRssBytes: processTreeRss(child.pid!) };
  } finally {
    process.kill(-child.pid!, 'SIGTERM');
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function staleCheckMs(): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: projectRoot, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`scripts/build.mjs --if-stale exited ${result.status}`);
  return performance.now() - started;
}

const range = (values: number[], scale: number, digits: number) => {
  const summary = summarize(values)!;
  const format = (value: number) => (value / scale).toFixed(digits);
  return [format(summary.median), `${format(summary.min)}–${format(summary.max)}`];
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' }, 'idle-ms': { type: 'string', default: '3000' } } });
  const runs = Number(values.runs);
  const idleMs = Number(values['idle-ms']);
  staleCheckMs(); // builds when needed, so that the compiled server is the sources'
  const samples = new Map<string, StartSample[]>(VARIANTS.map((variant) => [variant.name, []]));
  const checks: number[] = [];
  for (let round = 0; round < runs; round++) {
    // Rotated each round, so that none always runs first after the previous one stopped.
    for (let i = 0; i < VARIANTS.length; i++) {
      const variant = VARIANTS[(round + i) % VARIANTS.length];
      const sample = await measure(variant, idleMs);
      samples.get(variant.name)!.push(sample);
      process.stderr.write(
        `round ${round + 1}/${runs} ${variant.name}: listening ${sample.listeningMs.toFixed(0)} ms, /healthz ${sample.healthzMs.toFixed(0)} ms, idle RSS ${(sample.idleRssBytes / 2 ** 20).toFixed(1)} MiB\n`,
      );
    }
    checks.push(staleCheckMs());
  }
  const rows = VARIANTS.map(({ name }) => {
    const list = samples.get(name)!;
    return [
      name,
      ...range(
        list.map((s) => s.listeningMs),
        1,
        0,
      ),
      ...range(
        list.map((s) => s.healthzMs),
        1,
        0,
      ),
      ...range(
        list.map((s) => s.idleRssBytes),
        2 ** 20,
        1,
      ),
      String(list.length),
    ];
  });
  rows.push(['build.mjs --if-stale, build fresh (to exit)', ...range(checks, 1, 0), '', '', '', '', String(checks.length)]);
  const header = ['start', 'listening ms', 'min–max', 'first /healthz ms', 'min–max', 'idle RSS MiB', 'min–max', 'runs'];
  process.stdout.write(`${markdownTable(header, rows, [1, 2, 3, 4, 5, 6, 7])}\n`);
}

await main();
