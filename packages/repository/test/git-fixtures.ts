/**
 * Real git data for the repository tests: histories built with `git fast-import`, packs written
 * by `git pack-objects`, and the expected answers from `git cat-file` and `git verify-pack`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export function git(cwd: string, args: string[], input?: string | Buffer): Buffer {
  return execFileSync('git', args, {
    cwd,
    input,
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
  });
}

export function makeTempDir(t: { after(fn: () => void): void }, label: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `gitfleet-repo-${label}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A bare repository whose `main` has `commits` commits. Each commit edits one line of a 400-line
 * file (so its versions delta against each other in long chains), overwrites 600 bytes of an
 * incompressible file (deltas whose deflated data is large), rewrites a small file and adds one
 * file in a new directory; an annotated tag points at the middle commit.
 */
export function buildHistory(dir: string, commits: number): string {
  const repo = path.join(dir, 'source.git');
  git(dir, ['init', '--quiet', '--bare', repo]);
  const chunks: Buffer[] = [];
  const data = (body: string | Buffer) => {
    const bytes = Buffer.from(body);
    chunks.push(Buffer.from(`data ${bytes.length}\n`), bytes, Buffer.from('\n'));
  };
  const lines = Array.from({ length: 400 }, (_, i) => `line ${i} of a file that changes slowly ${'x'.repeat(i % 40)}`);
  let seed = 12345;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
  const noise = Buffer.from(Array.from({ length: 8192 }, random));
  for (let c = 1; c <= commits; c++) {
    lines[(c * 37) % lines.length] = `edited in commit ${c}`;
    const at = (c * 1500) % (noise.length - 600);
    for (let i = 0; i < 600; i++) noise[at + i] = random();
    const when = 1_700_000_000 + c * 60;
    chunks.push(Buffer.from(`commit refs/heads/main\nmark :${c}\n`));
    chunks.push(Buffer.from(`author Ada <ada@example.com> ${when} +0100\ncommitter Ada <ada@example.com> ${when} +0100\n`));
    data(`commit ${c}\n\nwith a body\n`);
    chunks.push(Buffer.from(`M 100644 inline big.txt\n`));
    data(lines.join('\n') + '\n');
    chunks.push(Buffer.from(`M 100644 inline noise.bin\n`));
    data(noise);
    chunks.push(Buffer.from(`M 100644 inline small.txt\n`));
    data(`small ${c}\n`);
    chunks.push(Buffer.from(`M 100755 inline dir${c % 7}/file${c}.bin\n`));
    data(Buffer.from(Array.from({ length: 64 + c }, (_, i) => (i * c) & 0xff)));
    chunks.push(Buffer.from('\n'));
    if (c === Math.ceil(commits / 2)) {
      chunks.push(Buffer.from(`tag v1\nfrom :${c}\ntagger Ada <ada@example.com> ${when} +0100\n`));
      data('release v1\n');
    }
  }
  git(repo, ['fast-import', '--quiet'], Buffer.concat(chunks));
  return repo;
}

export interface BuiltPack {
  packPath: string;
  packSize: number;
  idx: Buffer;
  checksum: string;
}

/**
 * Packs the objects `revs` selects (pack-objects --revs syntax; `--all` allowed) into `outDir`.
 * Without offsetDeltas, git writes ref-deltas only.
 */
export function packObjects(repo: string, outDir: string, revs: string[], options: { offsetDeltas: boolean; depth?: number }): BuiltPack {
  const args = ['pack-objects', '--revs', '--quiet', '--no-reuse-delta', `--depth=${options.depth ?? 50}`, '--window=50'];
  if (options.offsetDeltas) args.push('--delta-base-offset');
  // Options such as --all go on the command line; revisions are read from stdin.
  args.push(...revs.filter((r) => r.startsWith('--')), path.join(outDir, 'pack'));
  const checksum = git(repo, args, revs.filter((r) => !r.startsWith('--')).join('\n') + '\n').toString().trim();
  const packPath = path.join(outDir, `pack-${checksum}.pack`);
  return { packPath, packSize: statSync(packPath).size, idx: readFileSync(path.join(outDir, `pack-${checksum}.idx`)), checksum };
}

export interface PackedObject {
  oid: string;
  type: string;
  size: number;
  /** Bytes of the entry in the pack, header included. */
  packedSize: number;
  offset: number;
  depth: number;
  baseOid?: string;
}

/** Every object of a pack as `git verify-pack -v` describes it. */
export function verifyPack(pack: BuiltPack): PackedObject[] {
  const out = git(path.dirname(pack.packPath), ['verify-pack', '-v', pack.packPath]).toString();
  const objects: PackedObject[] = [];
  for (const line of out.split('\n')) {
    const fields = line.split(' ').filter(Boolean);
    if (!/^[0-9a-f]{40}$/.test(fields[0] ?? '') || fields.length < 5) continue;
    const [oid, type, size, packedSize, offset, depth, baseOid] = fields;
    objects.push({ oid, type, size: Number(size), packedSize: Number(packedSize), offset: Number(offset), depth: Number(depth ?? 0), baseOid });
  }
  return objects;
}

/** Type and content of each object, from `git cat-file --batch` (one helper for every package's tests). */
export { catFile } from '../../git-format/test/pack-fixtures.js';
