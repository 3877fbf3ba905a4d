/**
 * Times receiving one pack: a given bare repository's pack pushed into a fresh Gitfleet
 * repository (FsBlobStore + SqliteKVStore) through receivePack directly, and for reference
 * `git index-pack` and `git receive-pack` (stateless RPC, the same request bytes) on the same pack.
 * Wall and CPU seconds of each; the ratio is Gitfleet over git receive-pack.
 *
 * Usage: tsx scripts/bench/push.ts [--repo PATH] [--pack FILE] [--ref NAME=OID ...] [--only gitfleet|git]
 *   --repo  a bare repository whose refs/heads/* and refs/tags/* are pushed (default: git's history)
 *   --pack  the pack to push (default: the repository's single pack under objects/pack)
 *   --ref   push only these refs instead (repeatable), e.g. refs/heads/master=1a3e…
 * Run the Gitfleet side under `node --cpu-prof --import tsx` to profile it (use --only gitfleet).
 */
import { spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { receivePack } from '../../packages/protocol/src/index.js';
import { BlockCache, RepositoryRegistry } from '../../packages/repository/src/index.js';
import { FsBlobStore, SqliteKVStore } from '../../packages/storage/src/index.js';
import { run } from './exec.js';

const ZERO = '0'.repeat(40);
const TIMEOUT_MS = 60 * 60 * 1000;
const LIMITS = {
  maxRequestBytes: 1 << 20,
  maxPackBytes: 8 * 1024 ** 3,
  maxObjectSize: 1024 ** 3,
  maxRequestPackets: 1 << 16,
  maxPushCommandBytes: 1 << 20,
  maxPushCommands: 1000,
  maxPushOptions: 100,
  maxRefNameBytes: 1024,
  maxPushRefLevels: 40000,
};

const { values } = parseArgs({
  options: {
    repo: { type: 'string', default: '/work/.mirror/git+git/repo' },
    pack: { type: 'string' },
    ref: { type: 'string', multiple: true },
    only: { type: 'string' },
  },
});

const repo = values.repo;
const packPath = values.pack ?? defaultPack(repo);
const refs = values.ref?.map((r) => r.split('=') as [string, string]) ?? (await repoRefs(repo));

function defaultPack(gitDir: string): string {
  const dir = path.join(gitDir, 'objects', 'pack');
  const packs = readdirSync(dir).filter((n) => n.endsWith('.pack'));
  if (packs.length !== 1) throw new Error(`${dir} holds ${packs.length} packs; name one with --pack`);
  return path.join(dir, packs[0]);
}

async function repoRefs(gitDir: string): Promise<[string, string][]> {
  const { stdout } = await run(
    'git',
    ['--git-dir', gitDir, 'for-each-ref', '--format=%(refname) %(objectname)', 'refs/heads', 'refs/tags'],
    { timeoutMs: TIMEOUT_MS },
  );
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ') as [string, string]);
}

function pkt(text: string): Buffer {
  const body = Buffer.from(text);
  return Buffer.concat([Buffer.from((body.length + 4).toString(16).padStart(4, '0')), body]);
}

/** The commands of a push creating every ref, then the pack bytes streamed from disk. */
function requestBody(): Readable {
  const commands = refs.map(([name, oid], i) => pkt(`${ZERO} ${oid} ${name}${i === 0 ? '\0report-status side-band-64k quiet' : ''}\n`));
  const head = Buffer.concat([...commands, Buffer.from('0000')]);
  return Readable.from(
    (async function* () {
      yield head;
      yield* createReadStream(packPath, { highWaterMark: 1 << 16 });
    })(),
  );
}

function cpuSeconds(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

async function timeGitfleet(): Promise<{ seconds: number; cpu: number; report: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gf-push-bench-'));
  try {
    const blobs = await FsBlobStore.open(path.join(dir, 'blobs'));
    const kv = new SqliteKVStore(path.join(dir, 'kv.sqlite'));
    const repository = await new RepositoryRegistry({
      blobs,
      kv,
      cache: new BlockCache({ maxBytes: 64 << 20, blockSize: 1 << 16 }),
    }).create('bench', 'push');
    const cpu = process.cpuUsage();
    const started = performance.now();
    const response = await receivePack(repository, requestBody(), { limits: LIMITS, spoolDir: path.join(dir, 'spool') });
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk);
    const seconds = (performance.now() - started) / 1000;
    const report = Buffer.concat(chunks).toString('latin1');
    await kv.close();
    return { seconds, cpu: cpuSeconds(cpu), report };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A child's wall time and CPU (user + sys) from GNU time. */
async function timeCommand(args: string[], input?: () => Readable): Promise<{ seconds: number; cpu: number }> {
  const started = performance.now();
  const child = spawn('/usr/bin/time', ['-f', '%U %S', ...args], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  if (input) input().pipe(child.stdin);
  else child.stdin.end();
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`${args.join(' ')} failed (${code}): ${stderr.slice(-2000)}`);
  const [user, sys] = stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
  return { seconds: (performance.now() - started) / 1000, cpu: user + sys };
}

async function timeGitReceivePack(): Promise<{ seconds: number; cpu: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'git-push-bench-'));
  try {
    await run('git', ['init', '--quiet', '--bare', dir], { timeoutMs: TIMEOUT_MS });
    // http-backend's configuration: fsck off (its default), everything else as it comes.
    return await timeCommand(['git', 'receive-pack', '--stateless-rpc', dir], requestBody);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function timeGitIndexPack(): Promise<{ seconds: number; cpu: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'git-index-bench-'));
  try {
    return await timeCommand(['git', 'index-pack', '--threads=1', '-o', path.join(dir, 'p.idx'), packPath]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (s: { seconds: number; cpu: number }) => `${s.seconds.toFixed(1)} s wall, ${s.cpu.toFixed(1)} s CPU`;
process.stdout.write(`pack ${packPath} (${(statSync(packPath).size / 1024 ** 2).toFixed(0)} MiB), ${refs.length} refs\n`);
let gitfleet: { seconds: number; cpu: number } | undefined;
let git: { seconds: number; cpu: number } | undefined;
if (values.only !== 'git') {
  const result = await timeGitfleet();
  gitfleet = result;
  const unpack = /unpack [^\n]*/.exec(result.report)?.[0] ?? 'no report';
  const refused = (result.report.match(/\bng refs\//g) ?? []).length;
  process.stdout.write(`gitfleet receivePack: ${fmt(result)} (${unpack}, ${refused} refs refused)\n`);
}
if (values.only !== 'gitfleet') {
  git = await timeGitReceivePack();
  process.stdout.write(`git receive-pack:     ${fmt(git)}\n`);
  process.stdout.write(`git index-pack -t1:   ${fmt(await timeGitIndexPack())}\n`);
}
if (gitfleet && git) process.stdout.write(`ratio (wall) gitfleet / git receive-pack: ${(gitfleet.seconds / git.seconds).toFixed(2)}x\n`);
