/**
 * A small real history built with git itself (branches, merges, annotated and lightweight tags,
 * an exact rename, binary files, a submodule entry, CRLF text, non-ASCII paths), loaded into a
 * Repository on memory stores; and `git` to ask for the expected answers.
 */
import { chmodSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ZERO_OID, hashObject } from '@gitfleet/git-format';
import { BlockCache, DeltaBaseCache, PackIndexCache, Repository } from '@gitfleet/repository';
import { MemoryBlobStore, MemoryKVStore } from '@gitfleet/storage';
import { git as runGit } from '@gitfleet/test-support/git';
import { LineDiffPool } from '../src/index.js';

/** The diff threads of the tests: idle threads exit by themselves, so no test needs to close it. */
export const diffPool = new LineDiffPool({ threads: 2, maxQueue: 64 });

/** git with paths printed as they are (no octal quoting of non-ASCII), as text. */
export function git(cwd: string, args: string[], options: { input?: string | Buffer; env?: Record<string, string> } = {}): string {
  return runGit(cwd, ['-c', 'core.quotepath=off', ...args], options.input, options.env).toString();
}

export interface Fixture {
  /** The git working repository (the oracle). */
  dir: string;
  repo: Repository;
  /** Two blobs whose ids share their first four hex digits (for ambiguity), tagged blob-a / blob-b. */
  collidingBlobs: [string, string];
}

/** Committer (and author) time of the n-th commit: distinct, a minute apart, in +02:00 (authors in -05:30). */
function dates(n: number): Record<string, string> {
  const when = 1_700_000_000 + n * 60;
  return { GIT_AUTHOR_DATE: `${when - 30} -0530`, GIT_COMMITTER_DATE: `${when} +0200` };
}

/** Builds the history in `dir`, an empty directory. */
export async function buildFixture(dir: string): Promise<Fixture> {
  const write = (file: string, content: string | Buffer) => {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), content);
  };
  let n = 0;
  const commit = (message: string) => git(dir, ['commit', '--quiet', '-m', message], { env: dates(++n) });

  git(dir, ['init', '--quiet', '--initial-branch=main']);
  git(dir, ['config', 'core.autocrlf', 'false']);
  const app = Array.from({ length: 40 }, (_, i) => `const line${i} = ${i};`);
  write('README.md', '# Demo\n\nA small project.\n');
  write('src/app.js', app.join('\n') + '\n');
  write('docs/guide.txt', 'How to use it.\nStep one.\nStep two.\n');
  write('crlf.txt', 'first\r\nsecond\r\nthird\r\n');
  write('dossier/été.txt', 'café\n');
  write('日本語.md', 'こんにちは\n');
  write('empty.txt', '');
  write('no-newline.txt', 'one\ntwo');
  git(dir, ['add', '-A']);
  commit('Initial commit\n\nWith a body.');

  app[5] = 'const line5 = "changed";';
  app.splice(20, 2);
  app.push('export default line0;');
  write('src/app.js', app.join('\n') + '\n');
  write('logo.bin', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0x02, 0xff]));
  write('script.sh', '#!/bin/sh\necho hi\n');
  chmodSync(path.join(dir, 'script.sh'), 0o755);
  write('no-newline.txt', 'one\ntwo\nthree');
  git(dir, ['add', '-A']);
  commit('Second: app changes, a binary and a script');
  git(dir, ['tag', '-a', 'v1.0', '-m', 'Release 1.0'], { env: dates(n) });
  git(dir, ['tag', 'light']);

  git(dir, ['checkout', '--quiet', '-b', 'feature']);
  git(dir, ['mv', 'docs/guide.txt', 'docs/manual.txt']);
  write('crlf.txt', 'first\r\nSECOND\r\nthird\r\n');
  git(dir, ['add', '-A']);
  commit('Feature: rename the guide, edit CRLF text');
  write('feature.txt', 'only on the feature branch\n');
  git(dir, ['add', '-A']);
  commit('Feature: a file of its own');

  git(dir, ['checkout', '--quiet', 'main']);
  write('README.md', '# Demo\n\nA small project, now with more words.\n\nAnd a second paragraph.\n');
  write('logo.bin', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x03]));
  git(dir, ['add', '-A']);
  const submoduleCommit = 'a'.repeat(40);
  git(dir, ['update-index', '--add', '--cacheinfo', `160000,${submoduleCommit},vendor/lib`]);
  commit('Main: README, binary, submodule');

  git(dir, ['merge', '--quiet', '--no-ff', '-m', 'Merge branch feature', 'feature'], { env: dates(++n) });

  app[30] = 'const line30 = 3000;';
  write('src/app.js', app.join('\n') + '\n');
  rmSync(path.join(dir, 'empty.txt'));
  rmSync(path.join(dir, 'no-newline.txt'));
  write('no-newline.txt/inside.txt', 'a file became a directory\n');
  // Not `add -A`: the submodule has no checkout, and -A would take it for deleted.
  git(dir, ['add', '-A', '--', 'src', 'empty.txt', 'no-newline.txt']);
  commit('Main: a file becomes a directory');

  // An unrelated history, and blobs whose ids share a 4-digit prefix, tagged directly.
  git(dir, ['checkout', '--quiet', '--orphan', 'orphan']);
  git(dir, ['rm', '-r', '--quiet', '--cached', '.']);
  git(dir, ['commit', '--quiet', '--allow-empty', '-m', 'Unrelated root'], { env: dates(++n) });
  git(dir, ['checkout', '--quiet', '-f', 'main']);
  const collidingBlobs = findCollidingBlobs();
  for (const [i, content] of collidingBlobs.entries()) {
    const oid = git(dir, ['hash-object', '-w', '--stdin'], { input: content }).trim();
    git(dir, ['update-ref', `refs/tags/blob-${'ab'[i]}`, oid]);
  }

  const repo = await loadRepository(dir);
  return {
    dir,
    repo,
    collidingBlobs: collidingBlobs.map((content) => hashObject('blob', Buffer.from(content))) as [string, string],
  };
}

/** Two small blob contents whose ids start with the same four hex digits. */
function findCollidingBlobs(): [string, string] {
  const seen = new Map<string, string>();
  for (let i = 0; ; i++) {
    const content = `collision candidate ${i}\n`;
    const prefix = hashObject('blob', Buffer.from(content)).slice(0, 4);
    const other = seen.get(prefix);
    if (other !== undefined) return [other, content];
    seen.set(prefix, content);
  }
}

let loaded = 0;

/**
 * A Repository on memory stores with the git repository's objects (one pack) and refs;
 * `wholeObjects` stores every object whole (no deltas).
 */
export async function loadRepository(dir: string, options: { wholeObjects?: boolean } = {}): Promise<Repository> {
  const stores = {
    blobs: new MemoryBlobStore(),
    kv: new MemoryKVStore(),
    cache: new BlockCache({ blockSize: 16 * 1024, maxBytes: 4 * 1024 * 1024 }),
    indexes: new PackIndexCache({ maxBytes: 16 * 1024 * 1024 }),
    deltaBases: new DeltaBaseCache({ maxBytes: 4 * 1024 * 1024 }),
  };
  const repo = new Repository(
    {
      id: `browse-test-${process.pid}-${++loaded}`,
      owner: 'o',
      name: 'r',
      createdAt: new Date(0).toISOString(),
      private: false,
      description: '',
    },
    stores,
  );
  const packDir = path.join(dir, '.git', 'gitfleet-test-pack');
  mkdirSync(packDir, { recursive: true });
  const noDeltas = options.wholeObjects ? ['--window=0'] : [];
  const checksum = git(dir, ['pack-objects', '--all', '--quiet', '--delta-base-offset', ...noDeltas, path.join(packDir, 'pack')], {
    input: '',
  }).trim();
  const packPath = path.join(packDir, `pack-${checksum}.pack`);
  await repo.packs.add(packPath, statSync(packPath).size, readFileSync(path.join(packDir, `pack-${checksum}.idx`)), checksum);
  const refs = git(dir, ['for-each-ref', '--format=%(objectname) %(refname)']).trim().split('\n');
  const updates = refs.map((line) => ({ name: line.slice(41), oldOid: ZERO_OID, newOid: line.slice(0, 40) }));
  await repo.refs.update(updates, { atomic: true, message: 'test' });
  await repo.refs.setHead(git(dir, ['symbolic-ref', 'HEAD']).trim());
  return repo;
}
