import { copyFileSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { catFile } from '@gitfleet/test-support/packs';
import { DEFAULT_PACK_LIMITS, type PackIndexPool } from '../src/index.js';
import type { IndexRequest } from '../src/receive-pack/index-pool.js';
import { SpooledPack } from '../src/receive-pack/spool.js';

let copies = 0;

/**
 * Indexes a fresh copy of the pack (indexing completes a thin pack in place), spooled to a file
 * or held in memory, its bases read from `repo`; returns the outcome and the pack.
 */
export async function indexCopy(
  pool: PackIndexPool,
  repo: string,
  packPath: string,
  request: Partial<IndexRequest> = {},
  held: 'on-disk' | 'in-memory' = 'on-disk',
) {
  const copy = path.join(path.dirname(packPath), `run-${copies++}.pack`);
  let pack: SpooledPack;
  if (held === 'in-memory') {
    pack = SpooledPack.inMemory(copy, readFileSync(packPath));
  } else {
    copyFileSync(packPath, copy);
    pack = SpooledPack.onDisk(copy, statSync(copy).size);
  }
  const outcome = await pool.index({
    pack,
    maxObjectSize: 64 << 20,
    limits: DEFAULT_PACK_LIMITS,
    tips: [],
    shallow: [],
    readObject: async (oid) => catFile(repo, [oid]).get(oid),
    ...request,
  });
  return { outcome, pack };
}
