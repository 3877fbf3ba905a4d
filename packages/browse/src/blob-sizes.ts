import { Lru, type ObjectId } from '@gitfleet/git-format';
import type { Repository } from '@gitfleet/repository';

/**
 * Blob sizes already looked up, shared by every repository of the process: an id names its
 * content, so its size is the same wherever the blob is found. Directory listings ask for
 * hundreds at a time (git's root has 500 entries) and the same listings are asked for again
 * and again. Bounded; the least recently used go first.
 */
const MAX_ENTRIES = 500_000;
const known = new Lru<ObjectId, number>(MAX_ENTRIES, () => 1);

export async function blobSize(repo: Repository, oid: ObjectId, context: string): Promise<number> {
  const cached = known.get(oid);
  if (cached !== undefined) return cached;
  const header = await repo.objects.header(oid);
  if (!header) throw new Error(`${context}: blob ${oid} is missing from repository ${repo.info.owner}/${repo.info.name}`);
  known.set(oid, header.size);
  return header.size;
}
