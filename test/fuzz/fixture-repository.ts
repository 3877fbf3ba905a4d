/** The fuzz history (history.ts) as a Repository on memory stores, for targets that serve it. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ZERO_OID } from '@gitfleet/git-format';
import { BlockCache, DeltaBaseCache, PackIndexCache, Repository } from '@gitfleet/repository';
import { MemoryBlobStore, MemoryKVStore } from '@gitfleet/storage';
import { gitText } from '@gitfleet/test-support/git';
import { makeHistory, type History } from './history.js';

let made: { history: History; refs: Array<{ name: string; oid: string }> } | undefined;

/** Made once per process by the real git; its directory is removed when the process exits. */
function fixtureHistory(): NonNullable<typeof made> {
  if (made === undefined) {
    const scratch = mkdtempSync(path.join(tmpdir(), 'gitfleet-fuzz-history-'));
    process.once('exit', () => rmSync(scratch, { recursive: true, force: true }));
    const history = makeHistory(scratch);
    const refs = gitText(scratch, ['for-each-ref', '--format=%(objectname) %(refname)'])
      .split('\n')
      .map((line) => ({ name: line.slice(41), oid: line.slice(0, 40) }));
    made = { history, refs };
  }
  return made;
}

/** A new Repository holding the fixture history: a target that changes it (a push) starts each input from the same state. */
export async function fixtureRepository(): Promise<Repository> {
  const { history, refs } = fixtureHistory();
  const repo = new Repository(
    { id: 'fuzz', owner: 'o', name: 'r', createdAt: new Date(0).toISOString(), private: false, description: '' },
    {
      blobs: new MemoryBlobStore(),
      kv: new MemoryKVStore(),
      cache: new BlockCache({ blockSize: 16 * 1024, maxBytes: 4 * 1024 * 1024 }),
      indexes: new PackIndexCache({ maxBytes: 16 * 1024 * 1024 }),
      deltaBases: new DeltaBaseCache({ maxBytes: 4 * 1024 * 1024 }),
    },
  );
  await repo.packs.add(history.pack.path, history.pack.size, history.pack.idx, history.pack.checksum);
  await repo.refs.update(
    refs.map((ref) => ({ name: ref.name, oldOid: ZERO_OID, newOid: ref.oid })),
    { atomic: true, message: 'fuzz fixture' },
  );
  await repo.refs.setHead('refs/heads/main');
  return repo;
}
