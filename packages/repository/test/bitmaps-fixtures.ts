/**
 * Real repositories for the bitmap tests: a history with branches, merges and tags of every
 * kind, repacked by C git into one pack (with git's `.rev`), stored in a Repository, and the
 * pack as buildPackBitmaps takes it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { MemoryBlobStore, MemoryKVStore } from '@gitfleet/storage';
import { PackIndex, type ObjectType } from '@gitfleet/git-format';
import { git, gitText } from '@gitfleet/test-support/git';
import { buildSourceRepo } from '@gitfleet/test-support/histories';
import { Repository } from '../src/index.js';
import { buildPackBitmaps, loadPackBitmaps, type PackBitmaps, type PackToBitmap } from '../src/bitmaps/index.js';
import { sidecarBlobKey } from '../src/keys.js';
import { caches } from './backends.js';
import { packObjects, verifyPack } from './git-fixtures.js';

export interface RepackedRepo {
  /** The bare repository, repacked into one pack with a `.rev` and no `.bitmap`. */
  dir: string;
  repo: Repository;
  /** The repository's blob store (for its sidecars). */
  blobs: MemoryBlobStore;
  pack: PackToBitmap;
  packPath: string;
  /** Every ref's target. */
  tips: string[];
  rev(name: string): string;
}

/** buildSourceRepo's history (`commits` commits) plus two more branches, repacked by git (`repack -ad`). */
export async function repackedRepo(dir: string, commits: number): Promise<RepackedRepo> {
  const source = buildSourceRepo(dir, commits);
  const rev = (name: string) => gitText(source, ['rev-parse', name]);
  git(source, ['update-ref', 'refs/heads/old', rev('main~40')]);
  git(source, ['update-ref', 'refs/heads/topic', rev('feature~2')]);
  git(source, ['-c', 'repack.writeBitmaps=false', '-c', 'pack.writeReverseIndex=true', 'repack', '-adq']);
  const packDir = path.join(source, 'objects', 'pack');
  const name = readdirSync(packDir).find((file) => file.endsWith('.pack'));
  if (!name) throw new Error(`no pack in ${packDir}`);
  const packPath = path.join(packDir, name);
  const checksum = name.slice('pack-'.length, -'.pack'.length);
  const packSize = readFileSync(packPath).length;
  const idx = readFileSync(packPath.replace(/\.pack$/, '.idx'));
  const blobs = new MemoryBlobStore();
  const repo = new Repository(
    { id: `bitmaps${Math.random().toString(36).slice(2)}`, owner: 'o', name: 'r', createdAt: '', private: false, description: '' },
    { blobs, kv: new MemoryKVStore(), ...caches() },
  );
  await repo.packs.add(packPath, packSize, idx, checksum);
  const objects = verifyPack({ packPath, packSize, idx, checksum }).sort((a, b) => a.offset - b.offset);
  const pack: PackToBitmap = {
    checksum,
    index: PackIndex.parse(idx, packSize),
    oidsInPackOrder: objects.map((o) => o.oid),
    typesInPackOrder: objects.map((o) => o.type as ObjectType),
  };
  const tips = gitText(source, ['for-each-ref', '--format=%(objectname)']).split('\n');
  return { dir: source, repo, blobs, pack, packPath, tips, rev };
}

/**
 * Commits `count` more commits on `branch` of the fixture (a file changed, a file added, and a
 * blob from the oldest history brought back), and stores them in a second pack of the
 * Repository, as a push would: the history past the bitmapped pack.
 */
/** Builds the bitmaps of the fixture's pack for its tips, stores them beside it and loads them back, as a clone would; any warning fails. */
export async function storedBitmaps(fixture: RepackedRepo): Promise<PackBitmaps> {
  const bitmap = await buildPackBitmaps(fixture.repo.objects, fixture.pack, fixture.tips);
  await fixture.blobs.putIfAbsent(sidecarBlobKey(fixture.repo.info.id, fixture.pack.checksum, 'bitmap'), bitmap);
  const warnings: string[] = [];
  const bitmaps = await loadPackBitmaps(fixture.blobs, fixture.repo.info.id, fixture.pack.index, (message) => warnings.push(message));
  if (!bitmaps || warnings.length > 0) throw new Error(`the fixture's bitmaps did not load cleanly: ${warnings.join('\n')}`);
  return bitmaps;
}

export async function pushMore(fixture: RepackedRepo, branch: string, count: number, workDir: string): Promise<void> {
  const before = fixture.rev(branch);
  const root = gitText(fixture.dir, ['rev-list', '--max-parents=0', 'main']);
  const oldBlob = fixture.rev(`${root}:main.txt`);
  const oldTree = fixture.rev(`${before}^{tree}`);
  let parent = before;
  for (let c = 0; c < count; c++) {
    const index = path.join(workDir, `index-${branch}-${c}`);
    const env = { GIT_INDEX_FILE: index };
    git(fixture.dir, ['read-tree', oldTree], undefined, env);
    const blob = gitText(fixture.dir, ['hash-object', '-w', '--stdin'], `${branch} pushed ${c}\n`);
    git(fixture.dir, ['update-index', '--add', '--cacheinfo', `100644,${blob},pushed/${branch}-${c}.txt`], undefined, env);
    git(fixture.dir, ['update-index', '--add', '--cacheinfo', `100644,${oldBlob},main.txt`], undefined, env);
    const tree = gitText(fixture.dir, ['write-tree'], undefined, env);
    parent = gitText(fixture.dir, ['commit-tree', tree, '-p', parent, '-m', `pushed ${c}`]);
  }
  git(fixture.dir, ['update-ref', `refs/heads/${branch}`, parent]);
  const built = packObjects(fixture.dir, workDir, [parent, `^${before}`], { offsetDeltas: true });
  await fixture.repo.packs.add(built.packPath, built.packSize, built.idx, built.checksum);
}

/** Ids `git rev-list` prints for `args` (first column), as a set. */
export function revList(dir: string, args: readonly string[]): Set<string> {
  return new Set(
    gitText(dir, ['rev-list', ...args])
      .split('\n')
      .filter(Boolean)
      .map((line) => line.slice(0, 40)),
  );
}
