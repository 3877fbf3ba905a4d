import type { BlobStore, KVStore } from '@gitfleet/storage';
import { REGISTRY_SCOPE, REPO_KEY_PREFIX } from '../keys.js';
import { LockStore } from '../lfs-locks.js';
import { RefJournal } from './ref-journal.js';
import { RegistryJournal } from './registry-journal.js';

export interface CheckpointProgress {
  repositoriesDone: number;
  repositoriesTotal: number;
}

/**
 * A checkpoint of the registry and of every repository, now. It brings under the journal what
 * predates it (repositories created before journaling began have no entries; Git LFS locks taken
 * before locks had blobs have none), and shortens the next recovery.
 */
export async function checkpointAll(
  stores: { blobs: BlobStore; kv: KVStore },
  onProgress?: (progress: CheckpointProgress) => void,
): Promise<{ registrySeq: number; repositories: number; lfsLockBlobsWritten: number }> {
  const registrySeq = await new RegistryJournal(stores.kv, stores.blobs).checkpoint();
  // The registry as the checkpoint's read saw it may have changed since: a repository created
  // meanwhile has its own journal from its creation on, and one deleted is skipped by recovery.
  const entries = await stores.kv.scan(REGISTRY_SCOPE, REPO_KEY_PREFIX);
  const ids = entries.map(({ value }) => (JSON.parse(value) as { id: string }).id);
  const locks = new LockStore(stores.kv, stores.blobs);
  let done = 0;
  let lfsLockBlobsWritten = 0;
  onProgress?.({ repositoriesDone: 0, repositoriesTotal: ids.length });
  for (const id of ids) {
    await new RefJournal(id, stores.kv, stores.blobs).checkpoint();
    lfsLockBlobsWritten += (await locks.reconcileBlobs(id)).written;
    onProgress?.({ repositoriesDone: ++done, repositoriesTotal: ids.length });
  }
  return { registrySeq, repositories: ids.length, lfsLockBlobsWritten };
}
