/**
 * Times the object enumeration of a full clone (every ref wanted, nothing had) against
 * `git rev-list --objects` over the same refs of the same repository, in one run.
 *
 * The repository's packs are loaded once into FsBlobStore + SqliteKVStore under .bench/enumerate/
 * (as a push would store them); each measured enumeration then runs in a child process of its
 * own, with cold caches sized as the server's defaults, so that its peak RSS is its own.
 * The enumerated set is checked against git's: same count, same ids.
 *
 * Usage: tsx scripts/bench/enumerate.ts [--repo PATH] [--ref REF] [--runs N] [--profile]
 *   --repo     a bare repository (default: git's history at /work/.mirror/git+git/repo)
 *   --ref      want only this ref (a quicker, partial measure) instead of every ref
 *   --runs     measured repetitions of each side, interleaved (default 1)
 *   --profile  write a V8 CPU profile of each Gitfleet run under .bench/enumerate/profiles/
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  BlockCache,
  DeltaBaseCache,
  enumerateObjects,
  PackAccess,
  PackIndexCache,
  PackObjectReader,
} from '../../packages/repository/src/index.js';
import { FsBlobStore, SqliteKVStore } from '../../packages/storage/src/index.js';
import { run } from './exec.js';
import { summarize } from './stats.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SELF = fileURLToPath(import.meta.url);
const MIB = 1024 * 1024;
const TIMEOUT_MS = 60 * 60 * 1000;
/** The server's default cache sizes (server/src/config.ts), so the measured memory is what a server would use. */
const CACHE = { blockBytes: 256 * MIB, blockSize: 64 * 1024, indexBytes: 256 * MIB, deltaBaseBytes: 64 * MIB };

interface Side {
  seconds: number;
  /** User + system CPU seconds: steadier than wall time on a machine shared with other work. */
  cpuSeconds: number;
  count: number;
  /** SHA-1 over the sorted ids: equal digests, equal sets. */
  digest: string;
  peakRssBytes?: number;
}

const { values } = parseArgs({
  options: {
    repo: { type: 'string', default: '/work/.mirror/git+git/repo' },
    ref: { type: 'string' },
    runs: { type: 'string', default: '1' },
    profile: { type: 'boolean', default: false },
    child: { type: 'string' },
  },
});

if (values.child !== undefined) {
  const side = await measureGitfleet(values.child);
  process.stdout.write(JSON.stringify(side));
  process.exit(0);
} else {
  await main();
}

async function main(): Promise<void> {
  const repo = path.resolve(values.repo);
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${values.runs}`);
  const dir = await loadOnce(repo);
  const wants = values.ref === undefined ? await listRefTips(repo) : [await resolveRef(repo, values.ref)];
  const revs = values.ref === undefined ? ['--all'] : [wants[0]];

  const git: Side[] = [];
  const ours: Side[] = [];
  for (let i = 0; i < runs; i++) {
    git.push(await measureGit(repo, revs));
    console.log(`git rev-list --objects: ${git[i].seconds.toFixed(2)} s (CPU ${git[i].cpuSeconds.toFixed(2)} s), ${git[i].count} objects`);
    ours.push(await measureInChild(dir, wants));
    console.log(
      `gitfleet enumerateObjects: ${ours[i].seconds.toFixed(2)} s (CPU ${ours[i].cpuSeconds.toFixed(2)} s), ${ours[i].count} objects, peak RSS ${(ours[i].peakRssBytes! / MIB).toFixed(0)} MiB`,
    );
    if (ours[i].count !== git[i].count || ours[i].digest !== git[i].digest) {
      throw new Error(
        `enumeration differs from git rev-list: ${ours[i].count} objects (${ours[i].digest}) vs ${git[i].count} (${git[i].digest})`,
      );
    }
  }
  const count = ours[0].count;
  const median = (sides: Side[], pick: (side: Side) => number): number => summarize(sides.map(pick))!.median;
  const line = (name: string, sides: Side[]): string => {
    const wall = median(sides, (s) => s.seconds);
    const cpu = median(sides, (s) => s.cpuSeconds);
    const rss = Math.max(...sides.map((s) => s.peakRssBytes!)) / MIB;
    return `${name.padEnd(24)} wall ${wall.toFixed(2)} s (${Math.round(count / wall)} objects/s)  CPU ${cpu.toFixed(2)} s (${Math.round(count / cpu)} objects/s)  peak RSS ${rss.toFixed(0)} MiB`;
  };
  console.log(
    [
      '',
      `repository: ${repo}, ${values.ref ?? 'every ref'}: ${count} objects, the same set from both; medians of ${runs} run(s)`,
      line('git rev-list --objects', git),
      line('gitfleet enumeration', ours),
      `ratio gitfleet / git: wall ${(median(ours, (s) => s.seconds) / median(git, (s) => s.seconds)).toFixed(2)}, CPU ${(median(ours, (s) => s.cpuSeconds) / median(git, (s) => s.cpuSeconds)).toFixed(2)}`,
    ].join('\n'),
  );
}

/** Stores the repository's packs once (keyed by its pack names); returns the stores' directory. */
async function loadOnce(repo: string): Promise<string> {
  const packDir = path.join(repo, 'objects', 'pack');
  const packs = readdirSync(packDir)
    .filter((name) => name.endsWith('.pack'))
    .map((name) => name.slice('pack-'.length, -'.pack'.length))
    .sort();
  if (packs.length === 0) throw new Error(`${packDir}: no packs (loose objects are not loaded: repack first)`);
  const looseDirs = readdirSync(path.join(repo, 'objects')).filter((name) => /^[0-9a-f]{2}$/.test(name));
  if (looseDirs.length > 0) throw new Error(`${repo} has loose objects, which this benchmark does not load: repack first`);
  const id = createHash('sha1').update(packs.join(',')).digest('hex').slice(0, 16);
  const dir = path.join(ROOT, '.bench', 'enumerate', id);
  const done = path.join(dir, 'loaded.json');
  if (existsSync(done)) return dir;

  mkdirSync(dir, { recursive: true });
  const { db, close } = await openDb(dir);
  try {
    for (const checksum of packs) {
      const packPath = path.join(packDir, `pack-${checksum}.pack`);
      console.log(`loading pack ${checksum} into ${dir}`);
      await db.packs.add(packPath, statSync(packPath).size, readFileSync(path.join(packDir, `pack-${checksum}.idx`)), checksum);
    }
  } finally {
    await close();
  }
  writeFileSync(done, JSON.stringify({ repo, packs }));
  return dir;
}

async function openDb(dir: string): Promise<{ db: { packs: PackAccess; objects: PackObjectReader }; close(): Promise<void> }> {
  const blobs = await FsBlobStore.open(path.join(dir, 'blobs'));
  const kv = new SqliteKVStore(path.join(dir, 'kv.sqlite'));
  const packs = new PackAccess('bench', {
    blobs,
    kv,
    cache: new BlockCache({ blockSize: CACHE.blockSize, maxBytes: CACHE.blockBytes }),
    indexes: new PackIndexCache({ maxBytes: CACHE.indexBytes }),
  });
  return {
    db: { packs, objects: new PackObjectReader(packs, new DeltaBaseCache({ maxBytes: CACHE.deltaBaseBytes })) },
    async close() {
      await blobs.close();
      await kv.close();
    },
  };
}

/** Every ref's object, deduplicated: a full clone's wants (tags peeled by the walk itself). */
async function listRefTips(repo: string): Promise<string[]> {
  const { stdout } = await run('git', ['--git-dir', repo, 'for-each-ref', '--format=%(objectname)'], { timeoutMs: 60_000 });
  return [...new Set(stdout.split('\n').filter((line) => line !== ''))];
}

async function resolveRef(repo: string, ref: string): Promise<string> {
  const { stdout } = await run('git', ['--git-dir', repo, 'rev-parse', '--verify', ref], { timeoutMs: 60_000 });
  return stdout.trim();
}

async function measureGit(repo: string, revs: string[]): Promise<Side> {
  const timeDir = mkdtempSync(path.join(tmpdir(), 'gitfleet-bench-time-'));
  const timeFile = path.join(timeDir, 'time');
  try {
    // --missing=print: a partial clone lacks a few blobs; git lists them with a '?' and goes on,
    // as the enumeration (which never reads blobs) does.
    const { stdout, seconds } = await run(
      '/usr/bin/time',
      ['-f', '%U %S %M', '-o', timeFile, 'git', '--git-dir', repo, 'rev-list', '--objects', ...revs, '--missing=print'],
      { timeoutMs: TIMEOUT_MS },
    );
    const [user, system, maxRssKib] = readFileSync(timeFile, 'utf8').trim().split(/\s+/).slice(-3).map(Number);
    const ids = stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => (line.startsWith('?') ? line.slice(1, 41) : line.slice(0, 40)));
    return { seconds, cpuSeconds: user + system, count: ids.length, digest: digestOf(ids), peakRssBytes: maxRssKib * 1024 };
  } finally {
    rmSync(timeDir, { recursive: true, force: true });
  }
}

async function measureInChild(dir: string, wants: string[]): Promise<Side> {
  const nodeArgs = ['--import', 'tsx'];
  if (values.profile) nodeArgs.push('--cpu-prof', '--cpu-prof-dir', path.join(ROOT, '.bench', 'enumerate', 'profiles'));
  const { stdout } = await run(process.execPath, [...nodeArgs, SELF, '--child', dir], {
    cwd: ROOT,
    timeoutMs: TIMEOUT_MS,
    input: JSON.stringify(wants),
  });
  return JSON.parse(stdout) as Side;
}

async function measureGitfleet(dir: string): Promise<Side> {
  const wants = JSON.parse(readFileSync(0, 'utf8')) as string[];
  const { db, close } = await openDb(dir);
  try {
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const { objects } = await enumerateObjects(db.objects, { wants, haves: [] }, { cacheKey: `bench-${process.pid}` });
    const cpu = process.cpuUsage(cpuBefore);
    const seconds = (performance.now() - started) / 1000;
    const peakRssBytes = process.resourceUsage().maxRSS * 1024;
    const ids = [...objects];
    return { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, count: ids.length, digest: digestOf(ids), peakRssBytes };
  } finally {
    await close();
  }
}

function digestOf(ids: string[]): string {
  ids.sort();
  const hash = createHash('sha1');
  for (const id of ids) hash.update(id);
  return hash.digest('hex');
}
