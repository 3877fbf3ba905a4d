import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ZERO_OID } from '@gitfleet/git-format';
import type { BlobStore } from '@gitfleet/storage';
import { collect, parseResponse, pushRequest, requestStream } from '@gitfleet/test-support/receive-pack-wire';
import { createRepository } from '@gitfleet/test-support/stores';
import { tempDir } from '@gitfleet/test-support/temp-dir';
import { receivePack } from '../src/index.js';
import { backends, commitChain, initSource, packRevs, TEST_LIMITS } from './receive-pack-fixtures.js';

for (const backend of backends) {
  describe(`receive-pack and the ref journal on ${backend.name}`, () => {
    it('a push whose refs moved but whose journal entry could not be written is never reported ok', async (t) => {
      const dir = tempDir(t, 'test');
      const stores = await backend.open(t);
      let failJournal = false;
      const blobs = Object.create(stores.blobs) as BlobStore;
      blobs.putIfAbsent = (key, body) =>
        failJournal && key.startsWith('journal/') ? Promise.reject(new Error('store unavailable')) : stores.blobs.putIfAbsent(key, body);
      const repo = await createRepository({ ...stores, blobs });
      const source = initSource(dir);
      const [a, b] = commitChain(source, 2);
      const push = async (commands: Parameters<typeof pushRequest>[0], revs: string[]) => {
        const response = await receivePack(repo, requestStream(pushRequest(commands, { pack: packRevs(source, revs) })), {
          limits: TEST_LIMITS,
          spoolDir: path.join(dir, 'spool'),
        });
        return parseResponse(await collect(response), true);
      };

      assert.deepEqual((await push([{ old: ZERO_OID, new: a, ref: 'refs/heads/main' }], [a])).report, ['unpack ok', 'ok refs/heads/main']);
      failJournal = true;
      const failed = await push([{ old: a, new: b, ref: 'refs/heads/main' }], [b]);
      assert.deepEqual(failed.report, [
        'unpack ok',
        'ng refs/heads/main outcome unknown: the ref may have moved but the update is not durable; fetch to see',
      ]);
      assert.match(failed.progress, /journal entry could not be written/);
      // Honest about the live system: the ref did move there.
      assert.equal(await repo.refs.get('refs/heads/main'), b);
    });
  });
}
