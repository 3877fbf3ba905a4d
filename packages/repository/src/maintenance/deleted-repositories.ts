import type { BlobInfo, BlobStore } from '@gitfleet/storage';
import { journalBlobPrefix, lfsBlobPrefix, repositoryBlobPrefix } from '../keys.js';
import type { DeletedRepository, RepositoryRegistry } from '../registry.js';

export interface DeletedRepositoryCollection {
  /** Deleted repositories whose blobs were removed, and their tombstones with them. */
  collected: number;
  /** Deleted repositories still inside their grace period. */
  waiting: number;
  blobs: number;
  bytes: number;
}

export interface CollectDeletedOptions {
  /** How long a deleted repository's blobs stay: longer than any request that opened it before the deletion may still read. */
  graceMs: number;
  now?: () => number;
  signal?: AbortSignal;
}

/**
 * Removes the blobs of repositories deleted longer than the grace period ago — packs, sidecars,
 * everything under the repository's blob prefix, its Git LFS objects and its ref journal — then
 * their tombstones.
 * Blobs go first: a crash in between leaves the tombstone, and the next run finishes the job
 * (deleting what is absent is a no-op). Repository ids are never reused, so nothing written
 * after the deletion can be under these prefixes, except by a request that opened the
 * repository before it: the grace period outlasts those.
 */
export async function collectDeletedRepositories(
  registry: RepositoryRegistry,
  blobs: BlobStore,
  options: CollectDeletedOptions,
): Promise<DeletedRepositoryCollection> {
  const now = options.now ?? Date.now;
  const outcome: DeletedRepositoryCollection = { collected: 0, waiting: 0, blobs: 0, bytes: 0 };
  for (const deleted of await registry.deleted()) {
    options.signal?.throwIfAborted();
    if (now() - Date.parse(deleted.deletedAt) <= options.graceMs) {
      outcome.waiting++;
      continue;
    }
    await removeBlobsOf(deleted, blobs, outcome, options.signal);
    await registry.forgetDeleted(deleted);
    outcome.collected++;
  }
  return outcome;
}

async function removeBlobsOf(
  deleted: DeletedRepository,
  blobs: BlobStore,
  outcome: DeletedRepositoryCollection,
  signal: AbortSignal | undefined,
): Promise<void> {
  for (const prefix of [repositoryBlobPrefix(deleted.id), lfsBlobPrefix(deleted.id), journalBlobPrefix(deleted.id)]) {
    // Listed whole before deleting: a listing is not promised stable under deletions.
    const listed: BlobInfo[] = [];
    for await (const blob of blobs.list(prefix)) listed.push(blob);
    for (const blob of listed) {
      signal?.throwIfAborted();
      await blobs.delete(blob.key);
      outcome.blobs++;
      outcome.bytes += blob.size;
    }
  }
}
