/** Real git repositories and packs for the pack tests, built with the git CLI in a temp dir. */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, renameSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import zlib from 'node:zlib';
import type { ObjectType } from '../src/oid.js';
import { encodeEntryHeader } from '../src/pack/entry.js';
import { PackWriter } from '../src/pack/writer.js';

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'A U Thor',
  GIT_AUTHOR_EMAIL: 'author@example.com',
  GIT_COMMITTER_NAME: 'C O Mitter',
  GIT_COMMITTER_EMAIL: 'committer@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  HOME: tmpdir(),
};

export function git(cwd: string, args: string[], input?: Buffer | string): Buffer {
  return execFileSync('git', args, { cwd, env: GIT_ENV, input, maxBuffer: 1 << 30 });
}

/** Runs git and returns its exit status and stderr, for commands expected to fail or succeed. */
export function gitStatus(cwd: string, args: string[]): { status: number | null; stderr: string; stdout: string } {
  const r = spawnSync('git', args, { cwd, env: GIT_ENV, maxBuffer: 1 << 30 });
  return { status: r.status, stderr: r.stderr.toString(), stdout: r.stdout.toString() };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `gitfleet-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

function commitAll(repo: string, message: string, date: number): void {
  git(repo, ['add', '-A']);
  execFileSync('git', ['commit', '-q', '-m', message], {
    cwd: repo,
    env: { ...GIT_ENV, GIT_AUTHOR_DATE: `${date} +0000`, GIT_COMMITTER_DATE: `${date} +0000` },
  });
}

function lines(count: number, seed: number): string {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(`line ${i} of the text ${(i * 2654435761 + seed) % 1000003}`);
  return out.join('\n') + '\n';
}

/**
 * A repository with history that makes git produce deltas of every kind: a text file edited
 * in many commits, a binary file patched, renames, nested trees, a ~5 MB incompressible
 * file, an annotated tag; repacked with `--depth=50` so chains are long.
 */
export function buildFixtureRepo(options: { hugeFile?: boolean; commits?: number } = {}): string {
  const repo = tempDir('pack-repo');
  git(repo, ['init', '-q', '-b', 'main']);
  mkdirSync(join(repo, 'src/deep/er'), { recursive: true });
  let text = lines(4000, 1);
  const binary = randomBytes(96 * 1024);
  writeFileSync(join(repo, 'text.txt'), text);
  writeFileSync(join(repo, 'binary.bin'), binary);
  writeFileSync(join(repo, 'src/deep/er/a.c'), 'int main(void) { return 0; }\n');
  writeFileSync(join(repo, 'empty'), '');
  if (options.hugeFile !== false) writeFileSync(join(repo, 'huge.bin'), randomBytes(5 * 1024 * 1024));
  let date = 1_700_000_000;
  commitAll(repo, 'initial', date);
  for (let c = 1; c <= (options.commits ?? 40); c++) {
    const all = text.split('\n');
    all.splice((c * 97) % all.length, 1, `edited in commit ${c}`);
    if (c % 3 === 0) all.push(`appended ${c}`);
    text = all.join('\n');
    writeFileSync(join(repo, 'text.txt'), text);
    binary.writeUInt32BE(c * 7919, (c * 1021) % (binary.length - 4));
    writeFileSync(join(repo, 'binary.bin'), binary);
    writeFileSync(join(repo, `src/file-${c % 7}.txt`), lines(50 + c, c));
    if (c === 10) renameSync(join(repo, 'src/deep/er/a.c'), join(repo, 'src/deep/moved.c'));
    if (c === 20) renameSync(join(repo, 'text.txt'), join(repo, 'renamed.txt'));
    if (c >= 20) writeFileSync(join(repo, 'renamed.txt'), text);
    if (c === 20) rmSync(join(repo, 'text.txt'), { force: true });
    commitAll(repo, `commit ${c}\n\nbody of ${c}`, date + c * 60);
    if (c === 25) git(repo, ['tag', '-a', '-m', 'release 1', 'v1']);
  }
  git(repo, ['repack', '-adfq', '--depth=50', '--window=50']);
  return repo;
}

/** `git pack-objects` of `revs` (one per line, like `--revs` stdin) into a file; returns its path. */
export function packObjects(repo: string, revs: string[], into: string, flags: string[] = []): string {
  const pack = git(repo, ['pack-objects', '--revs', '--stdout', '-q', ...flags], revs.join('\n') + '\n');
  writeFileSync(into, pack);
  return into;
}

/** `git index-pack` output for a pack (read outside any repository): the .idx bytes. */
export function gitIndexPack(packPath: string): Buffer {
  const idxPath = `${packPath}.git-idx`;
  execFileSync('git', ['index-pack', '-o', idxPath, packPath], { env: GIT_ENV, cwd: tmpdir() });
  const idx = readFileSync(idxPath);
  rmSync(idxPath);
  return idx;
}

/** Every object's type and content as `git cat-file --batch` gives them. */
export function catFile(repo: string, oids: readonly string[]): Map<string, { type: ObjectType; data: Buffer }> {
  const out = git(repo, ['cat-file', '--batch'], oids.join('\n') + '\n');
  const objects = new Map<string, { type: ObjectType; data: Buffer }>();
  let p = 0;
  while (p < out.length) {
    const nl = out.indexOf(10, p);
    const [oid, type, size] = out.toString('latin1', p, nl).split(' ');
    if (type === 'missing') throw new Error(`git cat-file: ${oid} missing`);
    const data = out.subarray(nl + 1, nl + 1 + Number(size));
    objects.set(oid, { type: type as ObjectType, data: Buffer.from(data) });
    p = nl + 1 + Number(size) + 1;
  }
  return objects;
}

export function sha1Object(type: ObjectType, data: Uint8Array): string {
  return createHash('sha1').update(`${type} ${data.length}\0`).update(data).digest('hex');
}

export type RawEntry =
  | { kind: 'object'; type: ObjectType; data: Buffer; declaredSize?: number }
  | { kind: 'ofs-delta'; distance: number; delta: Buffer }
  | { kind: 'ref-delta'; baseOid: string; delta: Buffer };

/** A hand-made pack: entries written with PackWriter, for shapes git never produces. */
export function buildPack(entries: RawEntry[]): Buffer {
  const writer = new PackWriter(entries.length);
  const chunks: Buffer[] = [writer.header()];
  for (const entry of entries) {
    const body = entry.kind === 'object' ? entry.data : entry.delta;
    const size = entry.kind === 'object' ? (entry.declaredSize ?? body.length) : body.length;
    const header =
      entry.kind === 'object'
        ? encodeEntryHeader({ kind: 'object', type: entry.type, size })
        : entry.kind === 'ofs-delta'
          ? encodeEntryHeader({ kind: 'ofs-delta', size, distance: entry.distance })
          : encodeEntryHeader({ kind: 'ref-delta', size, baseOid: entry.baseOid });
    chunks.push(...writer.entry(header, zlib.deflateSync(body)));
  }
  chunks.push(writer.trailer());
  return Buffer.concat(chunks);
}

/** A pack edited in place gets a fresh trailer, so that only the edit is wrong with it. */
export function withFreshTrailer(pack: Buffer): Buffer {
  const body = pack.subarray(0, pack.length - 20);
  return Buffer.concat([body, createHash('sha1').update(body).digest()]);
}
