import { copyFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { catFile } from '@gitfleet/test-support/packs';
import { DEFAULT_PACK_LIMITS, type PackIndexPool } from '../src/index.js';
import type { IndexRequest } from '../src/receive-pack/index-pool.js';

let copies = 0;

/** Indexes a fresh copy of the pack (indexing completes a thin pack in place), its bases read from `repo`. */
export async function indexCopy(pool: PackIndexPool, repo: string, packPath: string, request: Partial<IndexRequest> = {}) {
  const copy = path.join(path.dirname(packPath), `run-${copies++}.pack`);
  copyFileSync(packPath, copy);
  return pool.index({
    packPath: copy,
    packBytes: statSync(copy).size,
    maxObjectSize: 64 << 20,
    limits: DEFAULT_PACK_LIMITS,
    tips: [],
    shallow: [],
    readObject: async (oid) => catFile(repo, [oid]).get(oid),
    ...request,
  });
}
