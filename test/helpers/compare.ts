import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { GitClient } from '@gitfleet/test-support/git-client';

/** `refname → object id` for every ref of a local repository (for-each-ref). */
export async function localRefs(git: GitClient, dir: string, pattern: string[] = []): Promise<Map<string, string>> {
  const out = await git.ok(['for-each-ref', '--format=%(refname) %(objectname)', ...pattern], { cwd: dir });
  return parsePairs(out, ' ');
}

/** What `git ls-remote` reports for a URL: `name → id`, with HEAD and peeled `^{}` entries. */
export async function remoteRefs(git: GitClient, url: string, args: string[] = []): Promise<Map<string, string>> {
  const out = await git.ok(['ls-remote', ...args, url]);
  const refs = new Map<string, string>();
  for (const line of out.split('\n').filter(Boolean)) {
    const [oid, name] = line.split('\t');
    refs.set(name, oid);
  }
  return refs;
}

/**
 * What a correct server advertises for a repository holding exactly `dir`'s branches and
 * tags: every ref, each annotated tag's fully peeled `^{}` entry, and HEAD.
 */
export async function expectedAdvertisement(git: GitClient, dir: string): Promise<Map<string, string>> {
  const out = await git.ok(['show-ref', '--head', '--dereference'], { cwd: dir });
  const refs = new Map<string, string>();
  for (const line of out.split('\n').filter(Boolean)) {
    const [oid, name] = line.split(' ');
    if (name.startsWith('refs/heads/') || name.startsWith('refs/tags/') || name === 'HEAD') refs.set(name, oid);
  }
  return refs;
}

/** Sorted ids of every object reachable from any ref. */
export async function reachableObjects(git: GitClient, dir: string): Promise<string[]> {
  const out = await git.ok(['rev-list', '--all', '--objects'], { cwd: dir });
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => line.slice(0, 40))
    .sort();
}

/** Ids `rev-list --missing=print` reports as missing (promised by a partial clone's remote). */
export async function missingObjects(git: GitClient, dir: string): Promise<string[]> {
  const out = await git.ok(['rev-list', '--all', '--objects', '--missing=print'], { cwd: dir });
  return out
    .split('\n')
    .filter((line) => line.startsWith('?'))
    .map((line) => line.slice(1, 41))
    .sort();
}

/** `git fsck --full --strict` exits 0 and reports no problem (dangling objects aside). */
export async function assertFsckClean(git: GitClient, dir: string): Promise<void> {
  const result = await git.run(['fsck', '--full', '--strict', '--no-dangling', '--no-progress'], { cwd: dir });
  assert.equal(result.code, 0, `git fsck failed in ${dir}:\n${result.stdout}\n${result.stderr}`);
  assert.equal(result.stdout.trim(), '', `git fsck reported problems in ${dir}:\n${result.stdout}`);
}

/** Same refs (for-each-ref), same reachable objects, and the copy is fsck-clean. */
export async function assertSameRepository(git: GitClient, original: string, copy: string): Promise<void> {
  assert.deepEqual(mapToObject(await localRefs(git, copy)), mapToObject(await localRefs(git, original)), 'refs differ');
  assert.deepEqual(await reachableObjects(git, copy), await reachableObjects(git, original), 'reachable objects differ');
  await assertFsckClean(git, copy);
}

/** Contents of `.git/shallow` (sorted), empty when the repository is complete. */
export async function shallowCommits(git: GitClient, dir: string): Promise<string[]> {
  const path = await git.ok(['rev-parse', '--git-path', 'shallow'], { cwd: dir });
  try {
    return (await readFile(resolve(dir, path), 'utf8')).split('\n').filter(Boolean).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** A file:// URL for a local repository: fetching it runs C git's own upload-pack, the oracle. */
export function fileUrl(dir: string): string {
  return pathToFileURL(dir).href;
}

export function mapToObject(map: Map<string, string>): Record<string, string> {
  return Object.fromEntries([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function parsePairs(out: string, separator: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of out.split('\n').filter(Boolean)) {
    const at = line.indexOf(separator);
    map.set(line.slice(0, at), line.slice(at + 1));
  }
  return map;
}
