import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { killGroup, run } from './exec.js';
import { DEFAULT_BRANCH } from './servers.js';
import { seededRandom } from '../../packages/storage/src/index.js';

/** The shape of the generated repository; changing it changes GENERATOR_VERSION so the cache is rebuilt. */
const SHAPE = {
  modules: 100,
  dirsPerModule: 10,
  filesPerDir: 20, // 100 × 10 × 20 = 20,000 files
  mainCommits: 3000,
  featureBranches: 6,
  featureCommits: 50,
  largeBlobEvery: 250, // one incompressible blob of 1–4 MiB this often
  tagEvery: 200,
} as const;
const GENERATOR_VERSION = 1;
const MARKER = 'bench-generated-complete';
const GENERATE_TIMEOUT_MS = 15 * 60_000;

const WORDS = (
  'git pack tree blob commit object delta base offset index fanout ref head tag push fetch clone shallow ' +
  'filter want have ack nak done sideband capability stream store cache block range server client'
).split(' ');

/** The cached generated repository, made once with git fast-import (deterministic: a fixed seed). */
export function generatedRepository(benchDir: string): Promise<string> {
  // A real host's repository is well deltified; fast-import's packs are not.
  return cachedRepository(path.join(benchDir, `generated-v${GENERATOR_VERSION}.git`), writeHistory, { repack: true });
}

/**
 * A bare repository written once by `write` through git fast-import, then kept: later runs find it
 * complete (a marker file written last) and reuse it.
 */
export async function cachedRepository(
  dir: string,
  write: (emit: Emitter) => Promise<void>,
  { repack }: { repack: boolean },
): Promise<string> {
  if (existsSync(path.join(dir, MARKER))) return dir;
  const building = `${dir}.building`;
  await rm(building, { recursive: true, force: true });
  await rm(dir, { recursive: true, force: true });
  process.stderr.write(`generating ${dir} (once; cached for later runs)\n`);
  await run('git', ['init', '--quiet', '--bare', `--initial-branch=${DEFAULT_BRANCH}`, building], { timeoutMs: 60_000 });
  await fastImport(building, write);
  if (repack) await run('git', ['--git-dir', building, 'repack', '-a', '-d', '-f', '-q'], { timeoutMs: GENERATE_TIMEOUT_MS });
  await writeFile(path.join(building, MARKER), '');
  await rename(building, dir);
  return dir;
}

async function fastImport(gitDir: string, write: (emit: Emitter) => Promise<void>): Promise<void> {
  const child = spawn('git', ['--git-dir', gitDir, 'fast-import', '--quiet'], { detached: true, stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-8000)));
  const timer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), GENERATE_TIMEOUT_MS);
  const closed = once(child, 'close');
  try {
    await write(new Emitter(child.stdin));
    child.stdin.end();
    const [code] = (await closed) as [number | null];
    if (code !== 0) throw new Error(`git fast-import exited with ${code}: ${stderr}`);
  } finally {
    clearTimeout(timer);
  }
}

/** Writes git fast-import commands: commits with inline files, at a clock that advances ten minutes per commit. */
export class Emitter {
  private mark = 0;
  private time = 1_600_000_000;
  constructor(private readonly out: Writable) {}

  async write(chunk: string | Buffer): Promise<void> {
    if (!this.out.write(chunk)) await once(this.out, 'drain');
  }

  nextMark(): number {
    return ++this.mark;
  }

  nextTime(): number {
    return (this.time += 600);
  }

  async data(content: string | Buffer): Promise<void> {
    const bytes = typeof content === 'string' ? Buffer.from(content) : content;
    await this.write(`data ${bytes.length}\n`);
    await this.write(bytes);
    await this.write('\n');
  }

  /** Writes one commit; returns its mark. */
  async commit(ref: string, parent: number | undefined, message: string, changes: Array<[string, string | Buffer]>): Promise<number> {
    const mark = this.nextMark();
    const time = this.nextTime();
    await this.write(
      `commit ${ref}\nmark :${mark}\nauthor Bench <bench@example.com> ${time} +0000\ncommitter Bench <bench@example.com> ${time} +0000\n`,
    );
    await this.data(message);
    if (parent !== undefined) await this.write(`from :${parent}\n`);
    for (const [file, content] of changes) {
      await this.write(`M 100644 inline ${file}\n`);
      await this.data(content);
    }
    return mark;
  }
}

/** A line of 4–13 words of git vocabulary: text that compresses and deltifies as source code does. */
export function textLine(random: () => number): string {
  return Array.from({ length: 4 + Math.floor(random() * 10) }, () => WORDS[Math.floor(random() * WORDS.length)]).join(' ');
}

async function writeHistory(emit: Emitter): Promise<void> {
  const random = mulberry32(0x5eed);
  const line = () => textLine(random);

  const files: string[] = [];
  const contents: string[][] = [];
  for (let m = 0; m < SHAPE.modules; m++)
    for (let d = 0; d < SHAPE.dirsPerModule; d++)
      for (let f = 0; f < SHAPE.filesPerDir; f++) {
        files.push(`src/module-${m}/dir-${d}/file-${f}.txt`);
        contents.push(Array.from({ length: 20 + Math.floor(random() * 40) }, line));
      }
  const text = (i: number) => contents[i].join('\n') + '\n';
  const mainRef = `refs/heads/${DEFAULT_BRANCH}`;

  let tip = await emit.commit(
    mainRef,
    undefined,
    'initial import\n',
    files.map((file, i) => [file, text(i)]),
  );
  const forkPoints = new Map<number, number>();
  for (let b = 0; b < SHAPE.featureBranches; b++)
    forkPoints.set(Math.floor(((b + 1) * SHAPE.mainCommits) / (SHAPE.featureBranches + 1)), b);

  for (let c = 1; c <= SHAPE.mainCommits; c++) {
    const changes: Array<[string, string | Buffer]> = [];
    const touched = 1 + Math.floor(random() * 8);
    for (let t = 0; t < touched; t++) {
      const i = Math.floor(random() * files.length);
      const lines = contents[i];
      lines[Math.floor(random() * lines.length)] = line();
      if (random() < 0.5) lines.push(line());
      changes.push([files[i], text(i)]);
    }
    if (c % SHAPE.largeBlobEvery === 0) changes.push([`assets/large-${c}.bin`, randomBytes(random, (1 + Math.floor(random() * 4)) << 20)]);
    tip = await emit.commit(mainRef, tip, `change ${c}: ${line()}\n`, changes);

    if (c % SHAPE.tagEvery === 0) {
      const time = emit.nextTime();
      await emit.write(`tag v1.${c / SHAPE.tagEvery}\nfrom :${tip}\ntagger Bench <bench@example.com> ${time} +0000\n`);
      await emit.data(`release v1.${c / SHAPE.tagEvery}\n`);
      await emit.write(`reset refs/tags/light-${c / SHAPE.tagEvery}\nfrom :${tip}\n\n`);
    }
    const branch = forkPoints.get(c);
    if (branch !== undefined) {
      let featureTip = tip;
      for (let k = 0; k < SHAPE.featureCommits; k++) {
        featureTip = await emit.commit(`refs/heads/feature-${branch}`, featureTip, `feature ${branch} step ${k}\n`, [
          [`features/feature-${branch}/notes-${k % 10}.txt`, Array.from({ length: 10 + k }, line).join('\n') + '\n'],
        ]);
      }
      // fast-import keeps the last commit of each ref as its "from"; main continues from its own tip.
    }
  }
}

function randomBytes(random: () => number, size: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i += 4) bytes.writeUInt32LE(Math.floor(random() * 0x1_0000_0000), i);
  return bytes;
}

/** A small seeded PRNG (mulberry32): the same repository on every machine. */
export const mulberry32 = seededRandom;
