import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GitClient } from '@gitfleet/test-support/git-client';

export type FileMode = '100644' | '100755' | '120000';

export interface FileChange {
  content: string | Buffer;
  mode?: FileMode;
}

export interface CommitSpec {
  /** Branch ref the commit goes on, e.g. refs/heads/main. */
  ref: string;
  message: string;
  /** Committer and author time, seconds since the epoch. */
  time: number;
  /** Parent: a mark returned by `commit`, or any commit-ish; omitted: continue the ref, or a root commit. */
  from?: string;
  merge?: string[];
  files?: Record<string, string | Buffer | FileChange>;
  deletes?: string[];
}

/** A fast-import mark: `:N`. */
export type Mark = `:${number}`;

/**
 * Builds histories with `git fast-import`: thousands of files or commits in one process
 * instead of one git invocation per commit. Marks name commits and tags until `run` maps
 * them to object ids.
 */
export class FastImport {
  private readonly chunks: Buffer[] = [];
  private nextMark = 1;

  commit(spec: CommitSpec): Mark {
    const mark: Mark = `:${this.nextMark++}`;
    const who = `E2E Tester <e2e@example.test> ${spec.time} +0000`;
    this.text(`commit ${spec.ref}\nmark ${mark}\nauthor ${who}\ncommitter ${who}\n`);
    this.data(spec.message);
    if (spec.from) this.text(`from ${spec.from}\n`);
    for (const parent of spec.merge ?? []) this.text(`merge ${parent}\n`);
    for (const path of spec.deletes ?? []) this.text(`D ${quotePath(path)}\n`);
    for (const [path, change] of Object.entries(spec.files ?? {})) {
      const { content, mode = '100644' } = typeof change === 'string' || Buffer.isBuffer(change) ? { content: change } : change;
      this.text(`M ${mode} inline ${quotePath(path)}\n`);
      this.data(content);
    }
    this.text('\n');
    return mark;
  }

  /** An annotated tag of a commit or of another tag (a mark of either). */
  annotatedTag(name: string, target: Mark, message: string, time: number): Mark {
    const mark: Mark = `:${this.nextMark++}`;
    this.text(`tag ${name}\nmark ${mark}\nfrom ${target}\ntagger E2E Tester <e2e@example.test> ${time} +0000\n`);
    this.data(message);
    return mark;
  }

  /** Points a ref (a lightweight tag, or a branch) at a mark. */
  reset(ref: string, target: Mark): void {
    this.text(`reset ${ref}\nfrom ${target}\n\n`);
  }

  /** Feeds the stream to `git fast-import` in `gitDir` and returns every mark's object id. */
  async run(git: GitClient, gitDir: string): Promise<Map<Mark, string>> {
    const marksFile = join(git.root, `marks-${process.hrtime.bigint()}`);
    await git.ok(['--git-dir', gitDir, 'fast-import', '--quiet', '--force', `--export-marks=${marksFile}`], {
      input: Buffer.concat(this.chunks),
    });
    const marks = new Map<Mark, string>();
    for (const line of (await readFile(marksFile, 'utf8')).split('\n')) {
      const [mark, oid] = line.split(' ');
      if (mark && oid) marks.set(mark as Mark, oid);
    }
    return marks;
  }

  private text(s: string): void {
    this.chunks.push(Buffer.from(s, 'utf8'));
  }

  private data(content: string | Buffer): void {
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    this.chunks.push(Buffer.from(`data ${bytes.length}\n`), bytes, Buffer.from('\n'));
  }
}

function quotePath(path: string): string {
  return /["\\\n]|^ /.test(path) ? JSON.stringify(path) : path;
}

/** Deterministic pseudo-random text: compressible like source code, distinct per seed. */
export function textBlob(seed: number, lines: number): string {
  let state = (seed * 2654435761) >>> 0 || 1;
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    out.push(`line ${i} of ${seed}: value ${state.toString(16)} ${'x'.repeat(state % 40)}`);
  }
  return out.join('\n') + '\n';
}

const DAY = 86_400;
/** 2020-01-01T00:00:00Z, the first commit of the standard history. */
export const HISTORY_START = 1_577_836_800;

export interface StandardHistory {
  /** Object id of each named commit or tag. */
  oids: Record<string, string>;
  /** Commit time of main's commit N (main-0 … main-11). */
  mainTime(n: number): number;
}

/**
 * A small but varied repository in a bare `gitDir`:
 * - main: 12 commits, one per day from 2020-01-01, with nested directories, an executable,
 *   a symlink, a binary file, an empty file, a deletion, files of 10 B to ~20 KiB;
 * - feature: 4 commits from main-5, merged into main by main-9 (a merge commit);
 * - release: 2 commits from main-7;
 * - tags: v1.0 (annotated, main-3), v2.0 (annotated, main tip), light (lightweight, feature
 *   tip), rel-1 (annotated, release tip), v1.0-signed-off (annotated tag of the tag v1.0).
 */
export async function buildStandardHistory(git: GitClient, gitDir: string): Promise<StandardHistory> {
  const fi = new FastImport();
  const marks: Record<string, Mark> = {};
  const mainTime = (n: number) => HISTORY_START + n * DAY;
  const binary = Buffer.alloc(3000);
  for (let i = 0; i < binary.length; i++) binary[i] = (i * 7919) % 256;

  for (let n = 0; n < 12; n++) {
    const files: Record<string, string | Buffer | FileChange> = {
      [`src/module-${n % 4}.ts`]: textBlob(n, 20 + n * 30),
      [`docs/chapter-${n}.md`]: `# Chapter ${n}\n`,
      'README.md': `Readme revision ${n}\n`,
    };
    if (n === 0) {
      files['bin/run.sh'] = { content: '#!/bin/sh\necho run\n', mode: '100755' };
      files['link-to-readme'] = { content: 'README.md', mode: '120000' };
      files['assets/logo.bin'] = binary;
      files['empty'] = '';
      files['deep/a/b/c/d/e/file.txt'] = 'deep\n';
      files['obsolete.txt'] = 'to be deleted\n';
    }
    if (n === 9) {
      marks['main-9'] = fi.commit({
        ref: 'refs/heads/main',
        message: `Merge feature into main\n`,
        time: mainTime(n),
        merge: [marks['feature-3']],
        files,
      });
      continue;
    }
    marks[`main-${n}`] = fi.commit({
      ref: 'refs/heads/main',
      message: `main commit ${n}\n\nWith a body line.\n`,
      time: mainTime(n),
      files,
      deletes: n === 4 ? ['obsolete.txt'] : [],
    });
    if (n === 5) {
      for (let f = 0; f < 4; f++) {
        marks[`feature-${f}`] = fi.commit({
          ref: 'refs/heads/feature',
          message: `feature commit ${f}\n`,
          time: mainTime(5) + (f + 1) * 3600,
          from: f === 0 ? marks['main-5'] : undefined,
          files: { [`feature/part-${f}.txt`]: textBlob(100 + f, 200) },
        });
      }
    }
    if (n === 7) {
      for (let r = 0; r < 2; r++) {
        marks[`release-${r}`] = fi.commit({
          ref: 'refs/heads/release',
          message: `release commit ${r}\n`,
          time: mainTime(7) + (r + 1) * 3600,
          from: r === 0 ? marks['main-7'] : undefined,
          files: { VERSION: `1.${r}\n` },
        });
      }
    }
  }
  marks['tag-v1.0'] = fi.annotatedTag('v1.0', marks['main-3'], 'Version 1.0\n', mainTime(3));
  marks['tag-v2.0'] = fi.annotatedTag('v2.0', marks['main-11'], 'Version 2.0\n', mainTime(11));
  marks['tag-rel-1'] = fi.annotatedTag('rel-1', marks['release-1'], 'Release 1\n', mainTime(8));
  marks['tag-v1.0-signed-off'] = fi.annotatedTag('v1.0-signed-off', marks['tag-v1.0'], 'Signed off v1.0\n', mainTime(4));
  fi.reset('refs/tags/light', marks['feature-3']);

  const resolved = await fi.run(git, gitDir);
  const oids: Record<string, string> = {};
  for (const [name, mark] of Object.entries(marks)) oids[name] = resolved.get(mark)!;
  await git.ok(['--git-dir', gitDir, 'symbolic-ref', 'HEAD', 'refs/heads/main']);
  return { oids, mainTime };
}
