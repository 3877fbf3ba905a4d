/**
 * The small history the fuzz seeds come from, made by the real git with test-support's fixed
 * identity and clock, so that its object ids are the same on every machine: the upload-pack
 * target serves it, and the seed requests want and have its commits.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { git, gitText } from '@gitfleet/test-support/git';

export interface History {
  dir: string;
  /** Commits, oldest first. */
  commits: string[];
  tag: string;
  /** Every object, packed by git with deltas against each other. */
  pack: { path: string; size: number; idx: Buffer; checksum: string };
}

/** Makes the history in `dir` (created empty). */
export function makeHistory(dir: string): History {
  mkdirSync(dir, { recursive: true });
  git(dir, ['init', '--quiet', '--initial-branch=main']);
  const file = (name: string, text: string): void => {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  };
  const commit = (message: string): string => {
    git(dir, ['add', '--all']);
    git(dir, ['commit', '--quiet', '-m', message]);
    return gitText(dir, ['rev-parse', 'HEAD']);
  };
  const lines = Array.from({ length: 40 }, (_, i) => `line ${i} of a file long enough to be stored as a delta\n`);
  file('README', lines.join(''));
  file('src/main.c', 'int main(void) { return 0; }\n');
  file('.gitmodules', '[submodule "lib"]\n\tpath = lib\n\turl = https://example.com/lib.git\n');
  const commits = [commit('first')];
  file('README', [...lines.slice(0, 20), 'a changed line\n', ...lines.slice(21)].join(''));
  commits.push(commit('second\n\nwith a body'));
  git(dir, ['branch', 'topic', commits[0]]);
  git(dir, ['tag', '-a', '-m', 'release 1', 'v1', commits[1]]);
  const tag = gitText(dir, ['rev-parse', 'v1']);
  const packDir = path.join(dir, '.fuzz-pack');
  mkdirSync(packDir);
  const checksum = git(dir, ['pack-objects', '--all', '--quiet', '--delta-base-offset', path.join(packDir, 'pack')], '')
    .toString()
    .trim();
  const packPath = path.join(packDir, `pack-${checksum}.pack`);
  const idx = readFileSync(path.join(packDir, `pack-${checksum}.idx`));
  return { dir, commits, tag, pack: { path: packPath, size: statSync(packPath).size, idx, checksum } };
}
