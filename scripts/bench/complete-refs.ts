/**
 * A mirror made by a partial clone (a *.promisor pack) may lack objects that some of its refs
 * reach: the snapshot of git.git misses 25 trees and blobs under a few pull-request refs, and
 * `git push --mirror` of it fails on the first one. The benchmark then pushes a view of it: a
 * bare repository that borrows the mirror's objects (objects/info/alternates, so the mirror is
 * only read) and holds every ref of the mirror whose history is complete. Checked once per
 * mirror state, the verdict (and the view if one is needed) cached under .bench/views/.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { GitClient } from './git-client.js';

export interface CompleteRefs {
  /** The repository to push: the mirror itself, or its view. */
  gitDir: string;
  /** Refs of the mirror the view leaves out (their history misses objects). */
  leftOut: string[];
}

export async function completeRefs(git: GitClient, mirror: string, benchDir: string): Promise<CompleteRefs> {
  const packDir = path.join(mirror, 'objects', 'pack');
  const packs = existsSync(packDir) ? readdirSync(packDir) : [];
  if (!packs.some((name) => name.endsWith('.promisor'))) return { gitDir: mirror, leftOut: [] };

  const key = createHash('sha1')
    .update(path.resolve(mirror))
    .update(packs.sort().join('\n'))
    .update(refsState(mirror))
    .digest('hex')
    .slice(0, 12);
  const view = path.join(benchDir, 'views', `${path.basename(path.dirname(path.resolve(mirror)))}-${key}.git`);
  // Written last: the mirror's verdict, and the view complete if it needs one.
  const verdict = `${view}.json`;
  if (existsSync(verdict)) return JSON.parse(readFileSync(verdict, 'utf8')) as CompleteRefs;
  const result = await makeView(git, mirror, view);
  await writeFile(verdict, JSON.stringify(result));
  return result;
}

async function makeView(git: GitClient, mirror: string, view: string): Promise<CompleteRefs> {
  await mkdir(path.dirname(view), { recursive: true });
  process.stderr.write(`${mirror} is a partial clone: looking for refs whose history misses objects (once; cached in ${view})\n`);
  const missing = await missingObjects(git, mirror, ['--all']);
  if (missing.size === 0) return { gitDir: mirror, leftOut: [] };
  const baseMissing = await missingObjects(git, mirror, ['--branches', '--tags']);
  if (baseMissing.size > 0)
    throw new Error(`${mirror}: its branches and tags miss ${baseMissing.size} objects (e.g. ${[...baseMissing][0]}); it cannot be pushed`);

  const incomplete = await incompleteCommits(git, mirror, missing);
  const refs = (await git.git(['--git-dir', mirror, 'for-each-ref', '--format=%(objectname) %(*objectname) %(refname)'])).stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [id, peeled, name] = line.split(' ');
      return { id, commit: peeled || id, name };
    });
  const kept = refs.filter((ref) => !incomplete.has(ref.commit));
  const leftOut = refs.filter((ref) => incomplete.has(ref.commit)).map((ref) => ref.name);

  const building = `${view}.building`;
  await rm(building, { recursive: true, force: true });
  await git.git(['init', '--quiet', '--bare', building]);
  await writeFile(path.join(building, 'objects', 'info', 'alternates'), `${path.resolve(mirror, 'objects')}\n`);
  await writeFile(path.join(building, 'packed-refs'), kept.map((ref) => `${ref.id} ${ref.name}\n`).join(''));
  const head = await git.git(['--git-dir', mirror, 'symbolic-ref', 'HEAD']).then(
    (r) => r.stdout.trim(),
    () => undefined,
  );
  if (head) await git.git(['--git-dir', building, 'symbolic-ref', 'HEAD', head]);
  const stillMissing = await missingObjects(git, building, ['--all']);
  if (stillMissing.size > 0)
    throw new Error(
      `${mirror}: the view without ${leftOut.length} refs still misses ${stillMissing.size} objects, e.g. ${[...stillMissing][0]}`,
    );
  await rm(view, { recursive: true, force: true });
  await rename(building, view);
  return { gitDir: view, leftOut };
}

/** What the cache key needs of the refs: a mirror fetched again gets a new view. */
function refsState(mirror: string): string {
  const packed = path.join(mirror, 'packed-refs');
  return existsSync(packed) ? `${statSync(packed).size}:${statSync(packed).mtimeMs}` : '';
}

/** Objects the given revisions reach that the repository does not have. */
async function missingObjects(git: GitClient, gitDir: string, revisions: string[]): Promise<Set<string>> {
  const missing = new Set<string>();
  await eachLine(git, ['--git-dir', gitDir, 'rev-list', '--objects', '--missing=print', ...revisions], (line) => {
    if (line.startsWith('?')) missing.add(line.slice(1));
  });
  return missing;
}

/**
 * Commits outside the branches and tags whose history introduces a missing object: each
 * commit's own changes (git log --raw, trees included, every parent of a merge) name the
 * objects it adds; a commit is incomplete when it adds one or a parent is incomplete.
 */
async function incompleteCommits(git: GitClient, gitDir: string, missing: ReadonlySet<string>): Promise<Set<string>> {
  const parents = new Map<string, string[]>();
  const introducing = new Set<string>();
  let current = '';
  const args = ['--git-dir', gitDir, 'log', '--topo-order', '--format=commit %H %P', '-m', '-t', '--raw', '--no-abbrev', '--no-renames'];
  await eachLine(git, [...args, '--root', '--all', '--not', '--branches', '--tags'], (line) => {
    if (line.startsWith('commit ')) {
      const [, id, ...ids] = line.split(' ');
      current = id;
      if (!parents.has(id)) parents.set(id, ids);
    } else if (line.startsWith(':')) {
      // ":old-mode new-mode old-id new-id status\tpath"
      const newId = line.split(' ')[3];
      if (missing.has(newId)) introducing.add(current);
    }
  });
  // Topological order lists children first: walked backwards, every parent is decided before its children.
  const incomplete = new Set<string>();
  for (const id of [...parents.keys()].reverse()) {
    if (introducing.has(id) || parents.get(id)!.some((parent) => incomplete.has(parent))) incomplete.add(id);
  }
  return incomplete;
}

/** Streams a git command's output line by line (some are a gigabyte: git.git's log of its pull requests). */
async function eachLine(git: GitClient, args: string[], onLine: (line: string) => void): Promise<void> {
  const child = spawn('git', args, { env: git.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) onLine(line);
  const code = await exited;
  if (code !== 0) throw new Error(`git ${args.join(' ')} exited with ${code}: ${stderr}`);
}
