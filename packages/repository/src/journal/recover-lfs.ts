/**
 * A repository's Git LFS state as recovery rebuilds it from the blob store: the object records
 * from the objects stored (their sizes from the listing), the locks from their blobs. Neither is
 * in the journal: an object's blob is itself the durable fact that it was stored, and LockStore
 * writes each lock's blob before it acknowledges the lock (lfs-locks.ts). What maintenance's LFS
 * collector keeps beside them (sightings of unreferenced objects, deletions under way) is not
 * rebuilt: an unreferenced object starts a new grace period, which only delays its collection.
 */
import type { BlobStore, KVEntry } from '@gitfleet/storage';
import { lfsBlobPrefix, lfsLockBlobKey, lfsLockBlobPrefix, parseLfsObjectBlobName } from '../keys.js';
import { lfsLockEntries, parseLfsLock, type LfsLock } from '../lfs-locks.js';
import { lfsObjectRecordEntries } from '../lfs-object-records.js';

export interface RecoveredLfsState {
  /** The keys LfsObjectRecords and LockStore keep for what was found, to write into the repository's scope. */
  entries: KVEntry[];
  objects: number;
  /** The sum of the objects' sizes. */
  bytes: number;
  locks: number;
  /** Locks left out because an earlier one restored holds a path that folds alike (lfsLockEntries). */
  refusedLocks: Array<{ lock: LfsLock; heldBy: LfsLock }>;
}

export async function recoverLfsState(blobs: BlobStore, repositoryId: string): Promise<RecoveredLfsState> {
  const prefix = lfsBlobPrefix(repositoryId);
  const lockPrefix = lfsLockBlobPrefix(repositoryId);
  const objects: Array<{ oid: string; size: number }> = [];
  const lockKeys: string[] = [];
  // One listing for both: other blobs under the prefix (resumable uploads' pieces) are neither.
  for await (const { key, size } of blobs.list(prefix)) {
    const oid = parseLfsObjectBlobName(key.slice(prefix.length));
    if (oid !== undefined) objects.push({ oid, size });
    else if (key.startsWith(lockPrefix)) lockKeys.push(key);
  }
  const locks: LfsLock[] = [];
  for (const key of lockKeys) {
    const bytes = await blobs.get(key);
    // Deleted since the listing: unlocked.
    if (!bytes) continue;
    const lock = parseLfsLock(bytes.toString('utf8'), `recovering LFS lock ${key}`);
    if (key !== lfsLockBlobKey(repositoryId, lock.id)) throw new Error(`recovering LFS lock ${key}: the blob holds lock ${lock.id}`);
    locks.push(lock);
  }
  const restored = lfsLockEntries(locks);
  return {
    entries: [...lfsObjectRecordEntries(objects), ...restored.entries],
    objects: objects.length,
    bytes: objects.reduce((sum, { size }) => sum + size, 0),
    locks: restored.locks,
    refusedLocks: restored.refused,
  };
}
