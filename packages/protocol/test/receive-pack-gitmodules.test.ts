/**
 * .gitmodules content is checked whichever comes first in the pack, the blob or the tree that
 * names it (git's fsck_finish reads back the blobs it saw before knowing their name).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ZERO_OID } from '@gitfleet/git-format';
import { receivePack } from '../src/index.js';
import { buildPack, catFile, type RawEntry } from '@gitfleet/test-support/packs';
import { collect, parseResponse, pushRequest, requestStream } from '@gitfleet/test-support/receive-pack-wire';
import { createRepository } from '@gitfleet/test-support/stores';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { backends, initSource, writeBlob, writeCommit, writeTree, TEST_LIMITS } from './receive-pack-fixtures.js';

for (const backend of backends) {
  describe(`receive-pack checks .gitmodules content on ${backend.name}`, () => {
    for (const order of ['blob first', 'tree first'] as const) {
      it(`refuses a disallowed submodule name with the ${order}`, async (t) => {
        const dir = tempDir(t, 'gitmodules');
        const source = initSource(dir);
        const blob = writeBlob(source, '[submodule "../../modules/evil"]\n\tpath = evil\n\turl = ./evil\n');
        const tree = writeTree(source, [`100644 blob ${blob}\t.gitmodules`]);
        const commit = writeCommit(source, tree, [], 'evil');
        const objects = catFile(source, [commit, tree, blob]);
        const entry = (oid: string): RawEntry => ({ kind: 'object', type: objects.get(oid)!.type as 'blob', data: objects.get(oid)!.data });
        const pack = buildPack(
          order === 'blob first' ? [entry(blob), entry(tree), entry(commit)] : [entry(commit), entry(tree), entry(blob)],
        );

        const repo = await createRepository(await backend.open(t));
        const body = pushRequest([{ old: ZERO_OID, new: commit, ref: 'refs/heads/main' }], { pack });
        const response = parseResponse(
          await collect(await receivePack(repo, requestStream(body), { limits: TEST_LIMITS, spoolDir: path.join(dir, 'spool') })),
          true,
        );
        assert.deepEqual(response.report, [
          `unpack fsck error in packed object ${blob}: gitmodulesName: disallowed submodule name: ../../modules/evil`,
          'ng refs/heads/main unpacker error',
        ]);
        assert.deepEqual(await repo.packs.list(), []);
      });
    }
  });
}
