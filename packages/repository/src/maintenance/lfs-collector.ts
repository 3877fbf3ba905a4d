import type { ObjectId } from '@gitfleet/git-format';
import { hasBlobAges, type CasOp } from '@gitfleet/storage';
import {
  LFS_COLLECTING_PREFIX,
  LFS_KEY_PREFIX,
  LFS_OBJECT_PREFIX,
  LFS_UNREFERENCED_PREFIX,
  entriesAfter,
  lfsBlobKey,
  lfsCollectingKey,
  lfsUploadsBlobPrefix,
  lfsUnreferencedKey,
  repositoryScope,
} from '../keys.js';
import { LockStore } from '../lfs-locks.js';
import { LfsObjectRecords } from '../lfs-object-records.js';
import { LFS_POINTER_MAX_BYTES, parseLfsPointer } from '../lfs-pointer.js';
import { LoopPacer } from '../loop-pacer.js';
import { enumerateObjects } from '../reachability/enumerate.js';
import type { ObjectFilter } from '../reachability/filter.js';
import type { Repository } from '../repository.js';
import type { MaintenanceLease } from './lease.js';

export interface LfsCollectOptions {
  /**
   * How long a recorded object no pointer references is kept: it must outlast the time between
   * an LFS client's upload and the git push that references it (the pack grace period does).
   */
  graceMs: number;
  /** Milliseconds since the epoch; tests pass a clock of their own. */
  now?: () => number;
  signal?: AbortSignal;
}

export interface LfsCollectReport {
  /** Recorded objects before the run. */
  recorded: number;
  /** Whether the objects reachable from the refs were walked: not when no object is recorded (nor when no ref exists). */
  walked: boolean;
  /** Blobs read to ask whether they are pointers (those under the pointer limit). */
  blobsRead: number;
  /** Objects found unreferenced for the first time. */
  sighted: string[];
  /** Objects deleted (blob, record and sighting) after their grace period. */
  collected: string[];
  /** Objects a pointer references again: their sighting was dropped. */
  rereferenced: string[];
  /** Resumable uploads whose pieces were deleted, nothing having been added to them for ABANDONED_UPLOAD_MS. */
  abandonedUploads: number;
  /** Copies of locks written (a lock had none) and removed (their lock was gone), which recovery reads (LockStore.reconcileBlobs). */
  lockBlobs: { written: number; removed: number };
}

/**
 * How long the pieces of a resumable upload nobody adds to are kept (server/src/lfs/resumable-uploads.ts):
 * a push that broke off may be tried again the next day and still resume.
 */
export const ABANDONED_UPLOAD_MS = 48 * 3600 * 1000;

/**
 * Deletes the Git LFS objects no pointer reachable from the refs references, once unreferenced
 * for longer than the grace period, under the maintenance lease.
 *
 * A repository with no recorded object costs one KV scan (of its `lfs-` keys). Otherwise every object reachable from
 * the refs is enumerated (as a fetch of everything would), and each blob under the pointer limit,
 * its size read from its pack entry header, is read and parsed.
 *
 * WHY THIS LOSES NO OBJECT A PUSHED POINTER NEEDS. An LFS client uploads (or learns from the batch
 * API that the server already stores) each object BEFORE the git push that references it:
 * - An object is deleted only when it was first seen unreferenced a grace period ago
 *   (`lfs-unreferenced:<oid>`) and still is: a client that uploaded it pushes well within the grace
 *   period, and a run that then sees it referenced drops the sighting.
 * - An upload of an object already stored, the client's cue to send nothing, clears the sighting
 *   in a CAS that requires no collection of it to be underway (LfsObjectRecords.keepForUpload);
 *   if one is, the batch answers with an error and the push fails rather than lose the object.
 * - The collector starts a deletion by replacing the sighting it read with a mark
 *   (`lfs-collecting:<oid>`) in one CAS: it fails if an upload cleared the sighting meanwhile. Only
 *   then does it check that the refs are still those it walked (a push since may have brought a
 *   pointer back; then the mark gives way to the sighting again) and delete the blob, then the
 *   record, then the mark. A batch answered before the mark was set cleared the sighting, so the
 *   mark was never set; one answered after it fails. No window is left in which a client is told
 *   "already stored" of an object being deleted.
 * A run that stops after marking leaves the mark (uploads of the object fail while it stands): the
 * next run removes it, and the object, if still unreferenced, starts a new grace period.
 */
export async function collectLfsObjects(repo: Repository, lease: MaintenanceLease, options: LfsCollectOptions): Promise<LfsCollectReport> {
  const report = emptyLfsCollectReport();
  const now = options.now ?? Date.now;
  report.abandonedUploads = await collectAbandonedUploads(repo, lease, now);
  report.lockBlobs = await new LockStore(repo.stores.kv, repo.stores.blobs).reconcileBlobs(repo.info.id);
  const scope = repositoryScope(repo.info.id);
  const { kv } = repo.stores;
  // One scan for the three kinds of keys (and the locks, few as a rule, besides).
  const lfsEntries = await kv.scan(scope, LFS_KEY_PREFIX);
  const recorded = entriesAfter(lfsEntries, LFS_OBJECT_PREFIX);
  const sightings = entriesAfter(lfsEntries, LFS_UNREFERENCED_PREFIX);
  const marks = entriesAfter(lfsEntries, LFS_COLLECTING_PREFIX);
  report.recorded = recorded.size;
  if (recorded.size === 0 && sightings.size === 0 && marks.size === 0) return report;

  const timestamp = () => new Date(now()).toISOString();
  const cas = lease.compareAndSwap.bind(lease);
  const tips = await refTips(repo);
  // Sightings and marks left of objects no longer recorded are only removed: no walk is needed for that.
  const referenced = recorded.size > 0 ? await referencedObjects(repo, tips, report, options.signal) : new Set<string>();

  for (const [oid, mark] of marks) {
    // A run stopped while deleting: whether an upload came in meanwhile is unknown, so the grace period starts over.
    const stillUnreferenced = !referenced.has(oid) && recorded.has(oid) && !sightings.has(oid);
    const ops: CasOp[] = [{ key: lfsCollectingKey(oid), expect: mark, value: null }];
    if (stillUnreferenced) ops.push({ key: lfsUnreferencedKey(oid), expect: null, value: timestamp() });
    await cas(ops, 'ending an unfinished LFS deletion');
  }
  for (const [oid, seenAt] of sightings) {
    if (!referenced.has(oid) && recorded.has(oid)) continue;
    if (await cas([{ key: lfsUnreferencedKey(oid), expect: seenAt, value: null }], 'forgetting an LFS sighting')) {
      if (recorded.has(oid)) report.rereferenced.push(oid);
    }
  }
  for (const oid of recorded.keys()) {
    options.signal?.throwIfAborted();
    if (referenced.has(oid) || marks.has(oid)) continue;
    const seenAt = sightings.get(oid);
    if (seenAt === undefined) {
      if (await cas([{ key: lfsUnreferencedKey(oid), expect: null, value: timestamp() }], 'recording an unreferenced LFS object')) {
        report.sighted.push(oid);
      }
      continue;
    }
    if (!(now() - Date.parse(seenAt) > options.graceMs)) continue;
    const mark = timestamp();
    const marked = await cas(
      [
        { key: lfsUnreferencedKey(oid), expect: seenAt, value: null },
        { key: lfsCollectingKey(oid), expect: null, value: mark },
      ],
      'marking an LFS object for deletion',
    );
    if (!marked) continue;
    if (!sameTips(tips, await refTips(repo))) {
      // A push since the walk may reference it: keep it, and its sighting, for a later run to decide.
      await cas(
        [
          { key: lfsCollectingKey(oid), expect: mark, value: null },
          { key: lfsUnreferencedKey(oid), expect: null, value: seenAt },
        ],
        'giving up an LFS deletion',
      );
      continue;
    }
    const key = lfsBlobKey(repo.info.id, oid);
    lease.assertHeldFor(lease.durationMs / 3, `deleting ${key}`);
    await repo.stores.blobs.delete(key);
    await new LfsObjectRecords(kv).forget(repo.info.id, oid);
    await cas([{ key: lfsCollectingKey(oid), expect: mark, value: null }], 'ending an LFS deletion');
    report.collected.push(oid);
  }
  return report;
}

/** The report of a run that did nothing (yet). */
export function emptyLfsCollectReport(): LfsCollectReport {
  return {
    recorded: 0,
    walked: false,
    blobsRead: 0,
    sighted: [],
    collected: [],
    rereferenced: [],
    abandonedUploads: 0,
    lockBlobs: { written: 0, removed: 0 },
  };
}

/**
 * Deletes the pieces of each resumable upload whose newest piece is older than ABANDONED_UPLOAD_MS.
 * One listing per repository; nothing on a store that cannot tell a blob's age (an upload of
 * unknown age may be under way).
 */
async function collectAbandonedUploads(repo: Repository, lease: MaintenanceLease, now: () => number): Promise<number> {
  const { blobs } = repo.stores;
  if (!hasBlobAges(blobs)) return 0;
  const uploads = new Map<string, string[]>();
  for await (const piece of blobs.list(lfsUploadsBlobPrefix(repo.info.id))) {
    const upload = piece.key.slice(0, piece.key.lastIndexOf('/'));
    const pieces = uploads.get(upload) ?? [];
    pieces.push(piece.key);
    uploads.set(upload, pieces);
  }
  let abandoned = 0;
  for (const [upload, pieces] of uploads) {
    const writtenAt = await Promise.all(pieces.map((key) => blobs.writtenAt(key)));
    if (writtenAt.some((time) => time === undefined || now() - time <= ABANDONED_UPLOAD_MS)) continue;
    // A client that resumed since the listing has added a piece: the upload is not abandoned.
    let added = false;
    for await (const piece of blobs.list(`${upload}/`)) added ||= !pieces.includes(piece.key);
    if (added) continue;
    for (const key of pieces) {
      lease.assertHeldFor(lease.durationMs / 3, `deleting ${key}`);
      await blobs.delete(key);
    }
    abandoned++;
  }
  return abandoned;
}

/** The LFS objects named by pointers among the blobs reachable from `tips`. */
async function referencedObjects(
  repo: Repository,
  tips: readonly ObjectId[],
  report: LfsCollectReport,
  signal?: AbortSignal,
): Promise<Set<string>> {
  const referenced = new Set<string>();
  if (tips.length === 0) return referenced;
  report.walked = true;
  // The walk learns a blob's size from its pack entry headers, so only possible pointers are ever inflated.
  const { objects } = await enumerateObjects(
    repo.objects,
    { wants: tips, haves: [], filter: POSSIBLE_POINTERS },
    { cacheKey: repo.info.id, bitmaps: await repo.packs.bitmaps(), commitGraph: repo.packs },
  );
  const pacer = new LoopPacer();
  for (const oid of objects) {
    signal?.throwIfAborted();
    await pacer.step();
    const blob = await repo.objects.read(oid);
    report.blobsRead++;
    const pointer = blob && parseLfsPointer(blob.data);
    if (pointer) referenced.add(pointer.oid);
  }
  return referenced;
}

/** What a fetch with `--filter=combine:object:type=blob+blob:limit=1024` would get: blobs small enough to be pointers. */
const POSSIBLE_POINTERS: ObjectFilter = {
  kind: 'combine',
  filters: [
    { kind: 'object:type', type: 'blob' },
    { kind: 'blob:limit', limit: LFS_POINTER_MAX_BYTES },
  ],
};

async function refTips(repo: Repository): Promise<ObjectId[]> {
  return [...new Set((await repo.refs.list()).map((ref) => ref.oid))].sort();
}

function sameTips(a: readonly ObjectId[], b: readonly ObjectId[]): boolean {
  return a.length === b.length && a.every((oid, i) => oid === b[i]);
}
