/**
 * Real git data for the receive-pack tests: source repositories built with git's plumbing,
 * request bodies framed as `git send-pack` frames them, and a reader for the response.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { FsBlobStore, MemoryBlobStore, MemoryKVStore, SqliteKVStore } from '@gitfleet/storage';
import { BlockCache, RepositoryRegistry, type Repository, type Stores } from '@gitfleet/repository';
import type { ProtocolLimits } from '../src/index.js';

type TestContext = { after(fn: () => void | Promise<void>): void };

const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Ada',
  GIT_AUTHOR_EMAIL: 'ada@example.com',
  GIT_AUTHOR_DATE: '1700000000 +0100',
  GIT_COMMITTER_NAME: 'Ada',
  GIT_COMMITTER_EMAIL: 'ada@example.com',
  GIT_COMMITTER_DATE: '1700000000 +0100',
};

/** Limits for receive-pack tests: generous for the fixtures, small enough that a test may exceed them. */
export const TEST_LIMITS: ProtocolLimits = {
  maxRequestBytes: 1 << 20,
  maxPackBytes: 64 << 20,
  maxObjectSize: 16 << 20,
  maxRequestPackets: 1 << 16,
  maxPushCommandBytes: 1 << 20,
  maxPushCommands: 1000,
  maxPushOptions: 100,
  maxRefNameBytes: 1024, maxPushRefLevels: 40000,
};

export function git(cwd: string, args: string[], input?: string | Buffer): Buffer {
  return execFileSync('git', args, { cwd, input, env: GIT_ENV, maxBuffer: 256 * 1024 * 1024, stdio: ['pipe', 'pipe', 'pipe'] });
}

export function gitText(cwd: string, args: string[], input?: string | Buffer): string {
  return git(cwd, args, input).toString().trim();
}

export function makeTempDir(t: TestContext, label: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `gitfleet-receive-${label}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A bare source repository for building objects with plumbing. */
export function initSource(dir: string): string {
  const repo = path.join(dir, 'source.git');
  git(dir, ['init', '--quiet', '--bare', repo]);
  return repo;
}

export function writeBlob(repo: string, content: string | Buffer, literally = false): string {
  return gitText(repo, ['hash-object', '-w', '--stdin', ...(literally ? ['--literally'] : [])], content);
}

/** A tree from "mode type oid\tname" lines (git mktree syntax). */
export function writeTree(repo: string, entries: string[]): string {
  return gitText(repo, ['mktree', '--missing'], entries.map((e) => `${e}\n`).join(''));
}

export function writeCommit(repo: string, tree: string, parents: string[], message: string): string {
  return gitText(repo, ['commit-tree', tree, ...parents.flatMap((p) => ['-p', p]), '-m', message]);
}

/** A commit with a couple of files whose content depends on `n`, on top of `parents`. */
export function commitFiles(repo: string, n: number, parents: string[] = []): string {
  const lines = Array.from({ length: 300 }, (_, i) => `line ${i} ${i === n % 300 ? `edited ${n}` : 'stable text of a file'}`);
  const big = writeBlob(repo, lines.join('\n') + '\n');
  const small = writeBlob(repo, `small ${n}\n`);
  const sub = writeTree(repo, [`100644 blob ${writeBlob(repo, `nested ${n}\n`)}\tnested.txt`]);
  const tree = writeTree(repo, [`100644 blob ${big}\tbig.txt`, `100644 blob ${small}\tsmall.txt`, `040000 tree ${sub}\tdir`]);
  return writeCommit(repo, tree, parents, `commit ${n}`);
}

/** A linear history of `count` commits after `base`; returns the commits, oldest first. */
export function commitChain(repo: string, count: number, base?: string, seed = 0): string[] {
  const commits: string[] = [];
  let parent = base;
  for (let i = 1; i <= count; i++) {
    parent = commitFiles(repo, seed + i, parent ? [parent] : []);
    commits.push(parent);
  }
  return commits;
}

/** `git pack-objects --stdout` of what `revs` selects (rev-list syntax, one per line). */
export function packRevs(repo: string, revs: string[], options: { thin?: boolean; ofsDelta?: boolean } = {}): Buffer {
  const args = ['pack-objects', '--stdout', '--revs', '--quiet'];
  if (options.thin) args.push('--thin');
  if (options.ofsDelta !== false) args.push('--delta-base-offset');
  return git(repo, args, revs.join('\n') + '\n');
}

/** A pack of exactly these objects (no closure), for connectivity tests. */
export function packObjects(repo: string, oids: string[]): Buffer {
  return git(repo, ['pack-objects', '--stdout', '--quiet'], oids.join('\n') + '\n');
}

export function pkt(line: string | Buffer): Buffer {
  const payload = Buffer.from(line);
  return Buffer.concat([Buffer.from((payload.length + 4).toString(16).padStart(4, '0')), payload]);
}

export const FLUSH = Buffer.from('0000');

export interface PushCommandLine {
  old: string;
  new: string;
  ref: string;
}

/**
 * A receive-pack request body as `git send-pack` writes it: commands (capabilities after a NUL
 * on the first), flush, push options and flush when asked for, then the pack.
 */
export function pushRequest(commands: PushCommandLine[], options: { capabilities?: string[]; pushOptions?: string[]; shallow?: string[]; pack?: Buffer } = {}): Buffer {
  const capabilities = options.capabilities ?? ['report-status', 'side-band-64k', 'agent=git/2.39'];
  const parts: Buffer[] = (options.shallow ?? []).map((oid) => pkt(`shallow ${oid}`));
  commands.forEach((c, i) => parts.push(pkt(i === 0 ? `${c.old} ${c.new} ${c.ref}\0${capabilities.join(' ')}` : `${c.old} ${c.new} ${c.ref}`)));
  parts.push(FLUSH);
  if (options.pushOptions) parts.push(...options.pushOptions.map((o) => pkt(o)), FLUSH);
  if (options.pack) parts.push(options.pack);
  return Buffer.concat(parts);
}

/** A request body as a stream delivered in small chunks, as a socket would. */
export function requestStream(body: Buffer, chunkSize = 7919): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0; at < body.length; at += chunkSize) chunks.push(body.subarray(at, at + chunkSize));
  return Readable.from(chunks, { objectMode: false });
}

/** The pkt-lines of `bytes`; a flush is the string 'flush'. */
export function readPackets(bytes: Buffer): Array<Buffer | 'flush'> {
  const packets: Array<Buffer | 'flush'> = [];
  let at = 0;
  while (at < bytes.length) {
    const length = parseInt(bytes.subarray(at, at + 4).toString('ascii'), 16);
    if (Number.isNaN(length) || (length > 0 && length < 4)) throw new Error(`bad pkt-line length at ${at}`);
    if (length === 0) {
      packets.push('flush');
      at += 4;
      continue;
    }
    if (at + length > bytes.length) throw new Error(`truncated pkt-line at ${at}`);
    packets.push(bytes.subarray(at + 4, at + length));
    at += length;
  }
  return packets;
}

export interface ParsedResponse {
  /** report-status lines, without newlines. */
  report: string[];
  /** Everything on side-band 2. */
  progress: string;
  /** Everything on side-band 3. */
  fatal: string;
  /** Whether the side-band response ended with its flush. */
  flushed: boolean;
}

/** Demultiplexes a receive-pack response the way git send-pack reads it. */
export function parseResponse(bytes: Buffer, sideband: boolean): ParsedResponse {
  let band1 = bytes;
  let progress = '';
  let fatal = '';
  let flushed = false;
  if (sideband) {
    const data: Buffer[] = [];
    for (const packet of readPackets(bytes)) {
      if (packet === 'flush') {
        flushed = true;
        continue;
      }
      const payload = packet.subarray(1);
      if (packet[0] === 1) data.push(payload);
      else if (packet[0] === 2) progress += payload.toString();
      else if (packet[0] === 3) fatal += payload.toString();
      else throw new Error(`unknown side-band channel ${packet[0]}`);
    }
    band1 = Buffer.concat(data);
  }
  const report: string[] = [];
  for (const packet of readPackets(band1)) {
    if (packet === 'flush') break;
    report.push(packet.toString().replace(/\n$/, ''));
  }
  return { report, progress, fatal, flushed };
}

export async function collect(response: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk);
  return Buffer.concat(chunks);
}

export interface Backend {
  name: string;
  open(t: TestContext): Promise<Stores>;
}

const cache = () => new BlockCache({ blockSize: 16 * 1024, maxBytes: 4 * 1024 * 1024 });

/** Every test runs on the in-memory stores and on the embedded default (files + SQLite). */
export const backends: Backend[] = [
  { name: 'memory', open: async () => ({ blobs: new MemoryBlobStore(), kv: new MemoryKVStore(), cache: cache() }) },
  {
    name: 'fs+sqlite',
    async open(t) {
      const dir = makeTempDir(t, 'stores');
      const blobs = await FsBlobStore.open(path.join(dir, 'blobs'));
      const kv = new SqliteKVStore(path.join(dir, 'kv.sqlite'));
      t.after(async () => {
        await blobs.close();
        await kv.close();
      });
      return { blobs, kv, cache: cache() };
    },
  },
];

export async function createRepository(stores: Stores, name = 'repo'): Promise<Repository> {
  return new RepositoryRegistry(stores).create('owner', name);
}

/** Every object `git rev-list --objects` lists for `revs`. */
export function listObjects(repo: string, revs: string[]): string[] {
  return gitText(repo, ['rev-list', '--objects', ...revs])
    .split('\n')
    .filter(Boolean)
    .map((line) => line.slice(0, 40));
}

/** Type and content of each object, from `git cat-file --batch` (one helper for every package's tests). */
export { catFile } from '../../git-format/test/pack-fixtures.js';
