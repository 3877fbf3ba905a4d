/**
 * Repositories for the sidecar tests, built with the real git, and git's own answers about
 * them (objects reachable from a commit, object types, commit metadata).
 */
import { createHash } from 'node:crypto';
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { git, gitText } from '@gitfleet/test-support/git';
import { PackIndex } from '../src/pack/index-file.js';
import { Bitmap } from '../src/sidecars/bitmap.js';
import { IndexOrder } from '../src/sidecars/index-order.js';
import { packNameHash } from '../src/sidecars/name-hash.js';
import { packPositionsByIndexPosition, reverseIndexOf } from '../src/sidecars/reverse-index.js';

/** Committer time of the commit made far in the future: past 32 bits, within the 34 a commit-graph keeps. */
export const FAR_FUTURE = 5_000_000_000;

/**
 * A bare repository whose history has the shapes the sidecars must get right: a long first-parent
 * chain on `main`, side branches merged back (two parents) and an octopus merge (four parents),
 * a commit dated before its parent (clock skew, so corrected dates differ from commit dates),
 * a commit dated past 2^32 and a child of it dated 1970 (a corrected-date offset over 31 bits),
 * annotated tags on a commit, on a tag, on a tree and on a blob.
 */
export function buildSidecarRepo(dir: string): string {
  const mainCommits = 120;
  const repo = path.join(dir, 'sidecars.git');
  git(dir, ['init', '--quiet', '--bare', '--initial-branch=main', repo]);
  const chunks: Buffer[] = [];
  const data = (body: string) => chunks.push(Buffer.from(`data ${Buffer.byteLength(body)}\n${body}\n`));
  let mark = 0;
  const commit = (branch: string, when: number, parents: number[], files: Record<string, string>): number => {
    mark++;
    chunks.push(Buffer.from(`commit refs/heads/${branch}\nmark :${mark}\n`));
    chunks.push(Buffer.from(`author A <a@example.com> ${when} +0000\ncommitter C <c@example.com> ${when} +0000\n`));
    data(`commit ${mark} on ${branch}\n`);
    if (parents.length > 0) chunks.push(Buffer.from(`from :${parents[0]}\n`));
    for (const parent of parents.slice(1)) chunks.push(Buffer.from(`merge :${parent}\n`));
    for (const [file, body] of Object.entries(files)) {
      chunks.push(Buffer.from(`M 100644 inline ${file}\n`));
      data(body);
    }
    chunks.push(Buffer.from('\n'));
    return mark;
  };
  const tag = (name: string, from: string, when: number): void => {
    chunks.push(Buffer.from(`tag ${name}\nfrom ${from}\ntagger T <t@example.com> ${when} +0000\n`));
    data(`tag ${name}\n`);
  };
  const base = 1_700_000_000;
  const main: number[] = [];
  for (let c = 0; c < mainCommits; c++) {
    main.push(
      commit('main', base + 60 * c, main.length > 0 ? [main[main.length - 1]] : [], {
        [`dir${c % 6}/file${c % 17}.txt`]: `content ${c}\n`,
      }),
    );
  }
  const side = (name: string, from: number, count: number, startTime: number): number => {
    let tip = from;
    for (let c = 0; c < count; c++) tip = commit(name, startTime + 60 * c, [tip], { [`${name}/f${c}.txt`]: `${name} ${c}\n` });
    return tip;
  };
  const topic = side('topic', main[20], 5, base + 60 * 21);
  // Dated an hour before its parent.
  const skewed = commit('topic', base + 60 * 21 - 3600, [topic], { 'topic/skew.txt': 'skewed\n' });
  // A name with whitespace, which git's name hash skips.
  const merged = commit('main', base + 60 * mainCommits, [main[mainCommits - 1], skewed], { 'merge notes/read me\t.txt': 'merged\n' });
  const b1 = side('b1', main[30], 3, base + 60 * 31);
  const b2 = side('b2', main[40], 2, base + 60 * 41);
  const b3 = side('b3', main[50], 4, base + 60 * 51);
  const octopus = commit('main', base + 60 * (mainCommits + 1), [merged, b1, b2, b3], { 'octopus.txt': 'four parents\n' });
  commit('main', base + 60 * (mainCommits + 2), [octopus], { 'after.txt': 'after the octopus\n' });
  const future = commit('future', FAR_FUTURE, [main[10]], { 'future.txt': 'far ahead\n' });
  commit('future', 1, [future], { 'past.txt': 'dated 1970\n' });
  tag('v1', `:${main[5]}`, base);
  tag('v2', `:${octopus}`, base + 1);
  git(repo, ['fast-import', '--quiet'], Buffer.concat(chunks));
  const tree = gitText(repo, ['rev-parse', `main~3^{tree}`]);
  const blob = gitText(repo, ['hash-object', '-w', '--stdin'], 'a blob only a tag reaches\n');
  git(repo, ['tag', '-a', '-m', 'tag of a tag', 'v2-signed', 'v2']);
  git(repo, ['tag', '-a', '-m', 'tag of a tree', 'tree-tag', tree]);
  git(repo, ['tag', '-a', '-m', 'tag of a blob', 'blob-tag', blob]);
  return repo;
}

/** Paths of the single pack in `repo` and its sidecars. */
export function packFiles(repo: string): { pack: string; idx: string; rev: string; bitmap: string } {
  const packDir = path.join(repo, 'objects', 'pack');
  const packs = readdirSync(packDir).filter((name) => name.endsWith('.pack'));
  if (packs.length !== 1) throw new Error(`expected one pack in ${packDir}, found ${packs.join(', ')}`);
  const stem = path.join(packDir, packs[0].slice(0, -'.pack'.length));
  return { pack: `${stem}.pack`, idx: `${stem}.idx`, rev: `${stem}.rev`, bitmap: `${stem}.bitmap` };
}

/** A pack as the bitmap code sees it: its index, objects by idx position, and each object's pack position. */
export interface PackView {
  index: PackIndex;
  order: IndexOrder;
  packPositionOf(oid: string): number;
}

export function packView(repo: string): PackView {
  const files = packFiles(repo);
  const index = PackIndex.parse(readFileSync(files.idx), readFileSync(files.pack).length);
  const order = IndexOrder.fromPackIndex(index);
  const packPositions = packPositionsByIndexPosition(reverseIndexOf(index));
  return {
    index,
    order,
    packPositionOf(oid) {
      const position = order.positionOf(oid);
      if (position === undefined) throw new Error(`${oid} is not in the pack`);
      return packPositions[position];
    },
  };
}

/** What git's walk finds from `commit` (`git rev-list --objects`), as a bitmap over pack positions. */
export function reachableBitmap(repo: string, view: PackView, commit: string): Bitmap {
  const lines = gitText(repo, ['rev-list', '--objects', commit]).split('\n');
  return Bitmap.of(lines.map((line) => view.packPositionOf(line.slice(0, 40))));
}

/**
 * The name hash pack-objects gives each object, by idx position: of the name `git rev-list
 * --objects --all` prints with it (the path it was first reached by; a tag's name), else 0.
 */
export function nameHashesByGit(repo: string, view: PackView): Uint32Array {
  const hashes = new Uint32Array(view.index.objectCount);
  for (const line of gitText(repo, ['rev-list', '--objects', '--all']).split('\n')) {
    if (line.length > 41) hashes[view.order.positionOf(line.slice(0, 40)) ?? -1] = packNameHash(line.slice(41));
  }
  return hashes;
}

/** The type bitmaps from git's own listing of the pack's objects. */
export function typeBitmapsByGit(repo: string, view: PackView): Record<'commits' | 'trees' | 'blobs' | 'tags', Bitmap> {
  const types = { commits: new Bitmap(), trees: new Bitmap(), blobs: new Bitmap(), tags: new Bitmap() };
  const names = { commit: 'commits', tree: 'trees', blob: 'blobs', tag: 'tags' } as const;
  for (const line of gitText(repo, ['cat-file', '--batch-all-objects', '--batch-check=%(objectname) %(objecttype)']).split('\n')) {
    const [oid, type] = line.split(' ');
    types[names[type as keyof typeof names]].set(view.packPositionOf(oid));
  }
  return types;
}

/** Every commit of the repository with what a commit-graph records, from `git log`. */
export function commitsByGit(repo: string): { oid: string; tree: string; parents: string[]; commitTime: number }[] {
  return gitText(repo, ['log', '--all', '--format=%H %T %ct %P'])
    .split('\n')
    .map((line) => {
      const [oid, tree, time, ...parents] = line.split(' ').filter((field) => field !== '');
      return { oid, tree, parents, commitTime: Number(time) };
    });
}

/** A copy of `repo` under `dir`, to change its files without touching the original. */
export function copyRepo(repo: string, dir: string, name: string): string {
  const copy = path.join(dir, name);
  cpSync(repo, copy, { recursive: true });
  return copy;
}

/** A copy of `bytes` changed by `edit`, with its trailing SHA-1 recomputed: structural checks, not the checksum, must refuse it. */
export function resealed(bytes: Buffer, edit: (copy: Buffer) => void): Buffer {
  const copy = Buffer.from(bytes);
  edit(copy);
  createHash('sha1')
    .update(copy.subarray(0, copy.length - 20))
    .digest()
    .copy(copy, copy.length - 20);
  return copy;
}

/** Replaces a file git wrote read-only. */
export function replaceFile(file: string, bytes: Uint8Array): void {
  rmSync(file, { force: true });
  writeFileSync(file, bytes);
}
