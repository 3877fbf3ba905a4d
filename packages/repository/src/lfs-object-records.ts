/**
 * Which Git LFS objects a repository holds, with their sizes and their sum, in the repository's
 * KV scope: the storage quota reads one key per repository instead of listing the blob store,
 * and a collector knows what was stored without a listing either. A record is written when an
 * upload is complete (the server streamed it, or the client's verify call found it in the
 * object store), in one compare-and-swap with the sum, so the two always agree.
 */
import type { KVEntry, KVStore } from '@gitfleet/storage';
import {
  LFS_OBJECT_BYTES_KEY,
  LFS_OBJECT_PREFIX,
  lfsCollectingKey,
  lfsObjectRecordKey,
  lfsUnreferencedKey,
  repositoryScope,
} from './keys.js';

/** Tries against concurrent uploads to the same repository, each of which moved the sum. */
const MAX_ATTEMPTS = 100;

export class LfsObjectRecords {
  constructor(private readonly kv: KVStore) {}

  /** Records a stored object; false when it was recorded already. */
  async recordStored(repositoryId: string, oid: string, size: number): Promise<boolean> {
    return this.change(repositoryId, oid, size);
  }

  /** Forgets a collected object; false when it was not recorded. */
  async forget(repositoryId: string, oid: string): Promise<boolean> {
    return this.change(repositoryId, oid, null);
  }

  /**
   * Claims a stored object for a client told it need not upload it (the batch API's "already
   * stored"): ends the grace period maintenance may have started for it (collectLfsObjects), so that
   * the push that follows finds it. False while maintenance is deleting it: the client must not
   * rely on it then.
   */
  async keepForUpload(repositoryId: string, oid: string): Promise<boolean> {
    const scope = repositoryScope(repositoryId);
    const key = lfsUnreferencedKey(oid);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const seenAt = (await this.kv.get(scope, key)) ?? null;
      const { conflicts } = await this.kv.compareAndSwap(
        scope,
        [{ key, expect: seenAt, value: null, requireAbsent: { keys: [lfsCollectingKey(oid)] } }],
        'all',
      );
      if (conflicts.length === 0) return true;
      if ((await this.kv.get(scope, lfsCollectingKey(oid))) !== undefined) return false;
    }
    throw new Error(`${scope}: keeping LFS object ${oid} for an upload lost the race against maintenance ${MAX_ATTEMPTS} times`);
  }

  /** The sum of the sizes of the repository's recorded objects. */
  async repositoryBytes(repositoryId: string): Promise<number> {
    return Number((await this.kv.get(repositoryScope(repositoryId), LFS_OBJECT_BYTES_KEY)) ?? 0);
  }

  /** Every recorded object with its size, in oid order. */
  async list(repositoryId: string): Promise<Array<{ oid: string; size: number }>> {
    const entries = await this.kv.scan(repositoryScope(repositoryId), LFS_OBJECT_PREFIX);
    return entries.map(({ key, value }) => ({ oid: key.slice(LFS_OBJECT_PREFIX.length), size: Number(value) }));
  }

  private async change(repositoryId: string, oid: string, size: number | null): Promise<boolean> {
    const scope = repositoryScope(repositoryId);
    const key = lfsObjectRecordKey(oid);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const found = await this.kv.getMany(scope, [key, LFS_OBJECT_BYTES_KEY]);
      const [recorded, total] = [found.get(key), found.get(LFS_OBJECT_BYTES_KEY)];
      if ((recorded !== undefined) === (size !== null)) return false;
      const sum = Number(total ?? 0) + (size ?? -Number(recorded));
      const { conflicts } = await this.kv.compareAndSwap(
        scope,
        [
          { key, expect: recorded ?? null, value: size === null ? null : String(size) },
          { key: LFS_OBJECT_BYTES_KEY, expect: total ?? null, value: bytesValue(sum) },
        ],
        'all',
      );
      if (conflicts.length === 0) return true;
    }
    throw new Error(`${scope}: recording LFS object ${oid} lost the race against other uploads ${MAX_ATTEMPTS} times`);
  }
}

/** The KV entries LfsObjectRecords keeps for `objects` (recovery writes them from the objects stored): each one's record, and their sum. */
export function lfsObjectRecordEntries(objects: ReadonlyArray<{ oid: string; size: number }>): KVEntry[] {
  const entries = objects.map(({ oid, size }) => ({ key: lfsObjectRecordKey(oid), value: String(size) }));
  const sum = bytesValue(objects.reduce((total, { size }) => total + size, 0));
  if (sum !== null) entries.push({ key: LFS_OBJECT_BYTES_KEY, value: sum });
  return entries;
}

/** No key rather than "0": a repository without LFS objects keeps nothing of them. */
function bytesValue(sum: number): string | null {
  return sum === 0 ? null : String(sum);
}
