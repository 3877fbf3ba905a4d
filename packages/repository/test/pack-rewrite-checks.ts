/** What the tests of rewritten packs ask of C git and of a Repository reading the new pack. */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ObjectType } from '@gitfleet/git-format';
import { sha1Object } from '@gitfleet/test-support/packs';
import { deleteS3Prefix, s3BlobStore, s3Target, skipWithoutRemoteStores } from '@gitfleet/test-support/server-storage';
import { redisKvBackends, uniqueName, type StoresBackend } from '@gitfleet/test-support/stores';
import { git, gitText } from '@gitfleet/test-support/git';
import { Repository, type Stores } from '../src/index.js';
import { backends, caches } from './backends.js';
import type { WrittenPack } from '../src/maintenance/pack-rewrite.js';
import { verifyPack, type BuiltPack, type PackedObject } from './git-fixtures.js';

/**
 * Puts the written pack and its idx in a new bare repository under `dir` and has C git check
 * them: index-pack makes the same idx from the pack alone, verify-pack and fsck accept them,
 * and cat-file reads every object. Returns the bare repository and what verify-pack lists.
 */
export function gitAccepts(written: WrittenPack, dir: string): { repo: string; objects: PackedObject[] } {
  const repo = mkdtempSync(path.join(dir, 'rewritten-'));
  git(repo, ['init', '--quiet', '--bare']);
  const packPath = path.join(repo, 'objects', 'pack', `pack-${written.checksum}.pack`);
  copyFileSync(written.path, packPath);
  const gitIdx = path.join(dir, `${path.basename(repo)}.idx`);
  git(repo, ['index-pack', '-o', gitIdx, packPath]);
  assert.ok(readFileSync(gitIdx).equals(written.idx), 'git index-pack makes the same idx from the pack');
  writeFileSync(packPath.replace(/\.pack$/, '.idx'), written.idx);
  git(repo, ['index-pack', '--verify', packPath]);
  const objects = verifyPack({ packPath, packSize: written.size, idx: written.idx, checksum: written.checksum });
  assert.equal(objects.length, written.objectCount);
  const listed = gitText(repo, ['cat-file', '--batch-all-objects', '--batch-check']).split('\n');
  assert.equal(listed.length, written.objectCount, 'cat-file lists every object');
  git(repo, ['fsck', '--full', '--no-dangling']);
  return { repo, objects };
}

/** Reads every object of `expected` through a repository holding only the written pack; returns how many. */
export async function readsBack(
  written: WrittenPack,
  stores: Stores,
  expected: ReadonlyMap<string, { type: ObjectType; data: Buffer }>,
): Promise<number> {
  const repo = await repositoryWith(
    stores,
    [{ packPath: written.path, packSize: written.size, idx: written.idx, checksum: written.checksum }],
    'rewritten',
  );
  let count = 0;
  for (const [oid, want] of expected) {
    const got = await repo.objects.read(oid);
    assert.ok(got, `the new pack has ${oid}`);
    assert.equal(got.type, want.type, `type of ${oid}`);
    assert.ok(got.data.equals(want.data), `content of ${oid}`);
    assert.equal(sha1Object(got.type, got.data), oid);
    count++;
  }
  return count;
}

/** A repository named `name` in `stores` holding `packs`. */
export async function repositoryWith(stores: Stores, packs: readonly BuiltPack[], name: string): Promise<Repository> {
  const info = {
    id: `${name}0123456789abcdef0123456789abcdef`.slice(0, 32),
    owner: 'o',
    name,
    createdAt: new Date().toISOString(),
    private: false,
    description: '',
  };
  const repo = new Repository(info, stores);
  for (const pack of packs) await repo.packs.add(pack.packPath, pack.packSize, pack.idx, pack.checksum);
  return repo;
}

/** The written pack's objects in pack order, as hex ids. */
export function writtenOrder(written: WrittenPack): string[] {
  const { oids, count } = written.order;
  return Array.from({ length: count }, (_, i) => Buffer.from(oids.buffer, oids.byteOffset + 20 * i, 20).toString('hex'));
}

/**
 * The embedded backends and, unless GITFLEET_SKIP_REMOTE_STORES=1, S3 (under a fresh prefix,
 * deleted afterwards) with Redis: a rewrite reads long runs as ranged GETs there.
 */
export const rewriteBackends: StoresBackend[] = skipWithoutRemoteStores
  ? backends
  : [
      ...backends,
      {
        name: 's3+redis',
        async open(owner) {
          const target = s3Target();
          const prefix = `gitfleet-test/${uniqueName('rewrite')}/`;
          const blobs = s3BlobStore(target, prefix);
          owner.after(async () => {
            await blobs.close();
            await deleteS3Prefix(target, prefix);
          });
          return { blobs, kv: redisKvBackends[0].open(owner), ...caches() };
        },
      },
    ];
