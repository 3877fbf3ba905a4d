/**
 * What the maintenance tests share: the stores they run over (the embedded ones and S3 + Redis),
 * a pack writer stage made of C git (real packs, written by `git pack-objects` over a repository
 * holding the same objects), and pushes of real packs.
 */
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { PackIndex } from '@gitfleet/git-format';
import { S3BlobStore } from '@gitfleet/storage';
import { gitText } from '@gitfleet/test-support/git';
import { s3Target } from '@gitfleet/test-support/server-storage';
import { redisKvBackends, skipRemoteStores, uniqueName, type StoresBackend } from '@gitfleet/test-support/stores';
import { Repository, type NewPack, type PackAccess, type PackWriterStage, type RepackTips, type Stores } from '../src/index.js';
import { backends, caches } from './backends.js';
import { packObjects, type BuiltPack } from './git-fixtures.js';

/** The embedded backends, and S3 + Redis (as a fleet runs) unless GITFLEET_SKIP_REMOTE_STORES=1. */
export const maintenanceBackends: StoresBackend[] = [
  ...backends,
  ...(skipRemoteStores
    ? []
    : [
        {
          name: 's3+redis',
          async open(owner) {
            const target = s3Target();
            const blobs = new S3BlobStore({
              endpoint: target.endpoint,
              bucket: target.bucket,
              region: target.region,
              prefix: `${uniqueName('gftest-maintenance')}/`,
              credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
            });
            owner.after(async () => {
              for await (const { key } of blobs.list('')) await blobs.delete(key);
              await blobs.close();
            });
            return { blobs, kv: redisKvBackends[0].open(owner), ...caches() };
          },
        } satisfies StoresBackend,
      ]),
];

/** A clock the test moves; maintenance, leases and the collector all read it. */
export function testClock(): { now: () => number; advance(ms: number): void } {
  let time = Date.parse('2026-06-01T00:00:00.000Z');
  return { now: () => time, advance: (ms) => (time += ms) };
}

export const REPOSITORY_ID = 'aaaabbbbccccddddeeeeffff00001111';

/** A Repository object over `stores`, as one server of a fleet opens it; several may share the stores. */
export function openRepository(stores: Stores, registry?: Stores['registry']): Repository {
  return new Repository(
    { id: REPOSITORY_ID, owner: 'o', name: 'r', createdAt: '2026-01-01T00:00:00.000Z', private: false, description: '' },
    { ...stores, registry },
  );
}

/** Packs written by C git over `source`, which holds every object the repository under test has. */
export class GitPackWriter implements PackWriterStage {
  constructor(private readonly source: string) {}

  async compact(packs: PackAccess, checksums: readonly string[], packPath: string): Promise<NewPack> {
    const oids = new Set<string>();
    for (const checksum of checksums) for (const { oid } of (await packs.index(checksum)).entries()) oids.add(oid);
    return this.packOids([...oids], path.dirname(packPath));
  }

  async repack(
    repo: Repository,
    tips: RepackTips,
    fromPacks: readonly string[],
    dir: string,
  ): Promise<{ main: NewPack; rest?: NewPack; cruft?: NewPack }> {
    const main = toNewPack(packObjects(this.source, dir, [...tips.clone], { offsetDeltas: true }));
    const rest =
      tips.rest.length > 0
        ? toNewPack(packObjects(this.source, dir, [...tips.rest, ...tips.clone.map((tip) => `^${tip}`)], { offsetDeltas: true }))
        : undefined;
    const reachable = new Set(
      [main, ...(rest ? [rest] : [])].flatMap((pack) => Array.from(PackIndex.parse(pack.idx, pack.size).entries(), (entry) => entry.oid)),
    );
    const cruft = new Set<string>();
    for (const checksum of fromPacks) {
      for (const { oid } of (await repo.packs.index(checksum)).entries()) if (!reachable.has(oid)) cruft.add(oid);
    }
    return {
      main,
      ...(rest && rest.objectCount > 0 ? { rest } : {}),
      ...(cruft.size > 0 ? { cruft: this.packOids([...cruft], dir) } : {}),
    };
  }

  private packOids(oids: string[], dir: string): NewPack {
    mkdirSync(dir, { recursive: true });
    const checksum = gitText(this.source, ['pack-objects', '--quiet', path.join(dir, 'pack')], oids.join('\n') + '\n').trim();
    return toNewPack({
      packPath: path.join(dir, `pack-${checksum}.pack`),
      packSize: statSync(path.join(dir, `pack-${checksum}.pack`)).size,
      idx: readFileSync(path.join(dir, `pack-${checksum}.idx`)),
      checksum,
    });
  }
}

function toNewPack(pack: BuiltPack): NewPack {
  const objectCount = PackIndex.parse(pack.idx, pack.packSize).objectCount;
  return { path: pack.packPath, size: pack.packSize, checksum: pack.checksum, idx: pack.idx, objectCount };
}

/** How receive-pack hands a pack over: a spooled file (stored as `.pack` and `.idx`), or bytes received in memory (one joined blob). */
export type PushSource = 'file' | 'bytes';
export const PUSH_SOURCES: readonly PushSource[] = ['file', 'bytes'];

/** Stores and registers a pack as receive-pack does after indexing it, handed over from `source`. */
export function addPack(repo: Repository, pack: BuiltPack, source: PushSource): Promise<void> {
  return repo.packs.add(source === 'bytes' ? readFileSync(pack.packPath) : pack.packPath, pack.packSize, pack.idx, pack.checksum);
}

/** Pushes a pack as receive-pack does after indexing it: store and register it, then move the ref in one CAS. */
export async function push(
  repo: Repository,
  pack: BuiltPack,
  ref: { name: string; oldOid: string; newOid: string },
  source: PushSource = 'file',
): Promise<void> {
  await addPack(repo, pack, source);
  const conflicts = await repo.refs.update([ref], { atomic: true, message: 'push' });
  if (conflicts.length > 0) throw new Error(`push of ${ref.name}: ${JSON.stringify(conflicts)}`);
}

/** The pack of `main~(from-1)..main~to` style ranges: `revs` in pack-objects --revs syntax. */
export function packRange(source: string, dir: string, revs: string[]): BuiltPack {
  mkdirSync(dir, { recursive: true });
  return packObjects(source, dir, revs, { offsetDeltas: true });
}

/** Every object id of `source` (reachable from its refs). */
export function allObjects(source: string): string[] {
  return gitText(source, ['rev-list', '--objects', '--all'])
    .split('\n')
    .filter(Boolean)
    .map((line) => line.slice(0, 40));
}
