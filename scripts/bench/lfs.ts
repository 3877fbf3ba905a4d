/**
 * Git LFS transfers through Gitfleet against the physical limits measured in the same run:
 * one large object (1 GiB by default) and many small ones (1,000 of 16 KiB), uploaded by
 * `git push` (git-lfs's pre-push upload) and downloaded by `git lfs fetch` into a fresh clone,
 * with the real git-lfs client (Debian's package), on each backend:
 *
 *   embedded      Gitfleet on files + SQLite: the server streams the bytes. Limit: a copy of the
 *                 same bytes on the same disk (read + write, as the server does).
 *   distributed   Gitfleet on S3 (radosgw) + Redis: the client moves the bytes to and from the
 *                 bucket through presigned URLs. Limit: the same bytes put to and got from the
 *                 same bucket with the AWS SDK directly.
 *
 * The large object is also uploaded by git-lfs's resumable transfer (tus, `lfs.tustransfers`),
 * whose bytes the server takes on both backends.
 *
 * Rounds interleave the backends and their limits; each figure is the median of the rounds with
 * its spread, and the server's CPU seconds and peak RSS (its whole process tree) during the
 * transfer. Needs the S3 and Redis test servers for the distributed backend (scripts/servers/).
 *
 * Usage: tsx scripts/bench/lfs.ts [--rounds 3] [--large-mib 1024] [--small 1000] [--small-kib 16]
 *                                 [--backends embedded,distributed]
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { finished, pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { processTreeCpuSeconds } from './cpu.js';
import { run } from './exec.js';
import { RssSampler } from './rss.js';
import { startGitfleet, startGitfleetS3, type BenchServer } from './servers.js';
import { summarize } from './stats.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const { values: options } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    'large-mib': { type: 'string', default: '1024' },
    small: { type: 'string', default: '1000' },
    'small-kib': { type: 'string', default: '16' },
    backends: { type: 'string', default: 'embedded,distributed' },
  },
});
const rounds = Number(options.rounds);
const largeMib = Number(options['large-mib']);
const smallCount = Number(options.small);
const smallKib = Number(options['small-kib']);
const backends = options.backends.split(',') as Array<'embedded' | 'distributed'>;

type Case = 'large' | 'small';
interface Sample {
  seconds: number;
  serverCpuSeconds?: number;
  serverPeakRssBytes?: number;
}
const samples = new Map<string, Sample[]>();
const record = (row: string, sample: Sample) => samples.set(row, [...(samples.get(row) ?? []), sample]);

const log = (line: string) => process.stderr.write(`[bench:lfs ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

async function timed<T>(work: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { seconds: (performance.now() - started) / 1000, value };
}

async function git(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return (await run('git', args, { cwd, env, timeoutMs: 60 * 60_000 })).stdout;
}

/** The files of each case, written once and pushed in every round: one large random file, or many small ones. */
async function writeCaseFiles(dir: string, kind: Case): Promise<void> {
  await mkdir(dir, { recursive: true });
  if (kind === 'large') {
    const out = createWriteStream(path.join(dir, 'large.bin'));
    for (let i = 0; i < largeMib; i++) if (!out.write(randomBytes(1024 * 1024))) await once(out, 'drain');
    out.end();
    await finished(out);
  } else {
    for (let i = 0; i < smallCount; i++)
      await writeFile(path.join(dir, `small-${String(i).padStart(5, '0')}.bin`), randomBytes(smallKib * 1024));
  }
}

/** A repository whose commit tracks the case's files with LFS (git-lfs copies them into .git/lfs/objects as it adds them). */
async function stagedRepository(dir: string, files: string): Promise<void> {
  await git(['init', '-q', '-b', 'main', dir], tmpdir());
  await git(['lfs', 'install', '--local'], dir);
  await git(['lfs', 'track', '*.bin'], dir);
  await run('cp', ['-r', `${files}/.`, dir], { timeoutMs: 30 * 60_000 });
  await git(['add', '-A'], dir);
  await git(['-c', 'user.name=bench', '-c', 'user.email=bench@example.com', 'commit', '-q', '-m', 'objects'], dir);
}

/** Runs `work` against `server`, measuring its CPU and peak RSS meanwhile. */
async function measured(server: BenchServer, work: () => Promise<unknown>): Promise<Sample> {
  const pid = server.daemon.pid;
  const sampler = new RssSampler(() => [{ name: 'server', pids: [pid] }]);
  const cpuBefore = processTreeCpuSeconds(pid) ?? 0;
  sampler.start();
  const { seconds } = await timed(work);
  sampler.sample();
  sampler.stop();
  return {
    seconds,
    serverCpuSeconds: (processTreeCpuSeconds(pid) ?? 0) - cpuBefore,
    serverPeakRssBytes: sampler.peaksOf('server').peakTreeRssBytes,
  };
}

async function throughGitfleet(
  server: BenchServer,
  backend: string,
  kind: Case,
  files: string,
  work: string,
  round: number,
): Promise<void> {
  const repo = `lfs-${kind}-${round}`;
  await server.createRepo(repo);
  const source = path.join(work, `${repo}-source`);
  await stagedRepository(source, files);
  record(`${backend} ${kind} upload`, await measured(server, () => git(['push', '-q', server.url(repo), 'main'], source)));
  if (kind === 'large') {
    // The same object by git-lfs's resumable transfer (tus), which the server takes itself on either backend.
    const resumable = `${repo}-tus`;
    await server.createRepo(resumable);
    record(
      `${backend} ${kind} upload, resumable (tus)`,
      await measured(server, () => git(['-c', 'lfs.tustransfers=true', 'push', '-q', server.url(resumable), 'main'], source)),
    );
  }
  const clone = path.join(work, `${repo}-clone`);
  await git(['clone', '-q', server.url(repo), clone], work, { ...process.env, GIT_LFS_SKIP_SMUDGE: '1' });
  record(`${backend} ${kind} download`, await measured(server, () => git(['lfs', 'fetch'], clone)));
  await Promise.all([rm(source, { recursive: true, force: true }), rm(clone, { recursive: true, force: true })]);
}

/** The disk's limit: the same bytes read and written once, as the embedded server stores and serves them. */
async function diskCopy(kind: Case, files: string, work: string): Promise<void> {
  const copy = async (from: string, to: string) => {
    await mkdir(to, { recursive: true });
    const names =
      kind === 'large' ? ['large.bin'] : Array.from({ length: smallCount }, (_, i) => `small-${String(i).padStart(5, '0')}.bin`);
    for (const name of names) await pipeline(createReadStream(path.join(from, name)), createWriteStream(path.join(to, name)));
  };
  const stored = path.join(work, 'disk-stored');
  record(`disk ${kind} write`, await timed(() => copy(files, stored)));
  const read = path.join(work, 'disk-read');
  record(`disk ${kind} read`, await timed(() => copy(stored, read)));
  await Promise.all([rm(stored, { recursive: true, force: true }), rm(read, { recursive: true, force: true })]);
}

/** The bucket's limit: the same bytes put and got by the SDK directly, up to 8 at a time (git-lfs's concurrency). */
async function sdkTransfer(kind: Case, files: string, work: string): Promise<void> {
  const client = new S3Client({
    endpoint: process.env.GITFLEET_TEST_S3_ENDPOINT,
    region: process.env.GITFLEET_TEST_S3_REGION || 'us-east-1',
    forcePathStyle: true,
    // As the server's S3 store: Ceph answers the SDK's default aws-chunked bodies with 411.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    credentials: { accessKeyId: process.env.GITFLEET_TEST_S3_ACCESS_KEY!, secretAccessKey: process.env.GITFLEET_TEST_S3_SECRET_KEY! },
  });
  const bucket = process.env.GITFLEET_TEST_S3_BUCKET!;
  const names = kind === 'large' ? ['large.bin'] : Array.from({ length: smallCount }, (_, i) => `small-${String(i).padStart(5, '0')}.bin`);
  const key = (name: string) => `bench-lfs-limit/${process.pid}/${name}`;
  const eightAtATime = async (work: (name: string) => Promise<void>) => {
    const queue = [...names];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let name = queue.shift(); name; name = queue.shift()) await work(name);
      }),
    );
  };
  record(
    `s3 sdk ${kind} put`,
    await timed(() =>
      eightAtATime(async (name) => {
        const file = path.join(files, name);
        await client.send(
          new PutObjectCommand({ Bucket: bucket, Key: key(name), Body: createReadStream(file), ContentLength: (await stat(file)).size }),
        );
      }),
    ),
  );
  const into = path.join(work, 'sdk-got');
  await mkdir(into, { recursive: true });
  record(
    `s3 sdk ${kind} get`,
    await timed(() =>
      eightAtATime(async (name) => {
        const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key(name) }));
        await pipeline(answer.Body as NodeJS.ReadableStream, createWriteStream(path.join(into, name)));
      }),
    ),
  );
  await eightAtATime((name) => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key(name) })).then(() => undefined));
  await rm(into, { recursive: true, force: true });
  client.destroy();
}

function report(): string {
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
  const lines = [`| case | median s | spread (min–max) | server CPU s (median) | server peak RSS (max) |`, `|---|---|---|---|---|`];
  for (const [row, list] of samples) {
    const time = summarize(list.map((sample) => sample.seconds))!;
    const cpu = list.some((sample) => sample.serverCpuSeconds !== undefined)
      ? summarize(list.map((sample) => sample.serverCpuSeconds ?? 0))
      : undefined;
    const rss = Math.max(...list.map((sample) => sample.serverPeakRssBytes ?? 0));
    lines.push(
      `| ${row} | ${time.median.toFixed(2)} | ${time.min.toFixed(2)}–${time.max.toFixed(2)} | ${cpu ? cpu.median.toFixed(2) : ''} | ${rss > 0 ? mib(rss) : ''} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const work = path.join(projectRoot, '.bench', `lfs-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const logDir = path.join(work, 'logs');
  await mkdir(logDir, { recursive: true });
  log(`work directory ${work}; ${rounds} rounds; large ${largeMib} MiB; ${smallCount} × ${smallKib} KiB`);
  const files = { large: path.join(work, 'files-large'), small: path.join(work, 'files-small') };
  await writeCaseFiles(files.large, 'large');
  await writeCaseFiles(files.small, 'small');
  const servers: Partial<Record<'embedded' | 'distributed', BenchServer>> = {};
  try {
    for (const backend of backends) {
      const dirs = { workDir: path.join(work, backend), logDir, runId: `lfs-${process.pid}-${backend}` };
      servers[backend] = backend === 'embedded' ? await startGitfleet(dirs) : await startGitfleetS3(dirs);
    }
    for (let round = 1; round <= rounds; round++) {
      for (const kind of ['large', 'small'] as const) {
        for (const backend of backends) {
          log(`round ${round}: ${backend} ${kind}`);
          await throughGitfleet(servers[backend]!, backend, kind, files[kind], work, round);
          if (backend === 'embedded') await diskCopy(kind, files[kind], work);
          else await sdkTransfer(kind, files[kind], work);
        }
      }
    }
  } finally {
    for (const server of Object.values(servers)) {
      await server.daemon.stop();
      await server.dispose?.();
    }
  }
  const table = report();
  await writeFile(path.join(work, 'report.md'), `${table}\n`);
  process.stdout.write(`${table}\n`);
  // The report and the server logs stay; the bytes moved (and the servers' copies of them) go.
  for (const dir of [files.large, files.small, ...backends.map((backend) => path.join(work, backend))]) {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
