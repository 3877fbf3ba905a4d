/** Packs of the pack tests written and indexed by the real git, for comparison with ours. */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { git } from '@gitfleet/test-support/git';

/** `git pack-objects` of `revs` (one per line, like `--revs` stdin) into a file; returns its path. */
export function packObjects(repo: string, revs: string[], into: string, flags: string[] = []): string {
  const pack = git(repo, ['pack-objects', '--revs', '--stdout', '-q', ...flags], revs.join('\n') + '\n');
  writeFileSync(into, pack);
  return into;
}

/** `git index-pack` output for a pack (read outside any repository): the .idx bytes. */
export function gitIndexPack(packPath: string): Buffer {
  const idxPath = `${packPath}.git-idx`;
  git(tmpdir(), ['index-pack', '-o', idxPath, packPath]);
  const idx = readFileSync(idxPath);
  rmSync(idxPath);
  return idx;
}
