// Server CPU per full clone of a fully repacked repository, with and without packfile URIs.
//
//   GITFLEET_E2E_BACKEND=embedded|distributed pnpm exec tsx test/packfile-uris-cpu.bench.ts <bare repository> <rev> [clones]
//
// Loads <rev> of <bare repository> as the `main` of a fresh server (GITFLEET_E2E_BACKEND picks its
// storage), runs `gitfleet maintenance run --full`, pushes one more commit, then clones it
// [clones] times each way (after one warm-up clone each) and prints the server's CPU seconds
// (utime + stime from /proc/<pid>/stat) per clone, median and all.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runCli } from '@gitfleet/test-support/cli';
import { TEST_ADMIN, TEST_ADMIN_TOKEN, startServer } from '@gitfleet/test-support/server';
import { serverCpuSeconds } from '../scripts/bench/cpu.js';

const [source, rev, clonesArg] = process.argv.slice(2);
if (!source || !rev) throw new Error('usage: packfile-uris-cpu.bench.ts <bare repository> <rev> [clones]');
const CLONES = Number(clonesArg ?? 5);
const execFileAsync = promisify(execFile);

async function git(args: string[], cwd?: string): Promise<string> {
  const env = { PATH: process.env.PATH, HOME: tmpdir(), GIT_CONFIG_NOSYSTEM: '1' };
  return (await execFileAsync('git', args, { cwd, env, maxBuffer: 1 << 30 })).stdout;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const server = await startServer({ GITFLEET_MAINTENANCE: '0' });
const work = await mkdtemp(join(tmpdir(), 'bench-uris-'));
try {
  const pid = Number(/"pid":(\d+)/.exec(server.logTail())?.[1]);
  const { url } = await server.createRepository('bench', 'history');
  const pushUrl = new URL(url);
  pushUrl.username = TEST_ADMIN;
  pushUrl.password = TEST_ADMIN_TOKEN;
  await git(['push', '-q', pushUrl.href, `${rev}^{commit}:refs/heads/main`], source);
  const repacked = await runCli(['maintenance', 'run', 'bench/history', '--full'], { ...server.cliEnv });
  if (repacked.code !== 0) throw new Error(`repack failed: ${repacked.stderr}`);
  const extra = join(work, 'extra');
  await git(['clone', '-q', pushUrl.href, extra]);
  await git(['-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-q', '--allow-empty', '-m', 'after the repack'], extra);
  await git(['push', '-q', 'origin', 'HEAD:main'], extra);
  const objects = (await git(['rev-list', '--objects', '--all'], extra)).trim().split('\n').length;

  const ways = { 'without URIs': [] as string[], 'with packfile URIs': ['-c', 'fetch.uriProtocols=http'] };
  const results: Record<string, number[]> = {};
  for (const [label, config] of Object.entries(ways)) {
    results[label] = [];
    for (let i = 0; i <= CLONES; i++) {
      const dir = join(work, `${label.replace(/\W/g, '-')}-${i}`);
      const before = await serverCpuSeconds([pid]);
      await git([...config, 'clone', '-q', '--bare', url, dir]);
      const spent = (await serverCpuSeconds([pid])) - before;
      // The first clone of each kind warms the caches (indexes, bitmaps, blocks).
      if (i > 0) results[label].push(spent);
      await rm(dir, { recursive: true, force: true });
    }
  }
  console.log(`${source} ${rev}: ${objects} objects, backend ${server.backend}, ${CLONES} clones each after a warm-up`);
  for (const [label, values] of Object.entries(results)) {
    console.log(`${label}: median ${median(values).toFixed(3)} s server CPU per clone (${values.map((v) => v.toFixed(3)).join(', ')})`);
  }
  const ratio = median(results['with packfile URIs']) / median(results['without URIs']);
  console.log(`ratio with/without: ${(ratio * 100).toFixed(1)}%`);
} finally {
  await server.stop();
  await rm(work, { recursive: true, force: true });
}
