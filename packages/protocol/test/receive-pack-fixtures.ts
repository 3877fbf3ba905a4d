/**
 * Real git data for the receive-pack tests: source repositories built with git's plumbing, and
 * the stores they are pushed into.
 */
import path from 'node:path';
import { BlockCache } from '@gitfleet/repository';
import { git, gitText } from '@gitfleet/test-support/git';
import { storesBackends } from '@gitfleet/test-support/stores';

export { TEST_PROTOCOL_LIMITS as TEST_LIMITS } from '@gitfleet/test-support/protocol-limits';

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

/** Every test runs on the in-memory stores and on the embedded default (files + SQLite). */
export const backends = storesBackends(() => ({ cache: new BlockCache({ blockSize: 16 * 1024, maxBytes: 4 * 1024 * 1024 }) }));

/** Every object `git rev-list --objects` lists for `revs`. */
export function listObjects(repo: string, revs: string[]): string[] {
  return gitText(repo, ['rev-list', '--objects', ...revs])
    .split('\n')
    .filter(Boolean)
    .map((line) => line.slice(0, 40));
}
