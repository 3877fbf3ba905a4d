// RefDB.setHeadIfUnborn, which gives a repository whose default branch does not exist a
// pushed branch as its default: it moves HEAD only while HEAD's ref is missing and the new
// target exists, both checked in the swap itself, so racing writers never leave HEAD at a
// missing ref and never move a default that exists.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ZERO_OID } from '@gitfleet/git-format';
import type { KVStore } from '@gitfleet/storage';
import { KVRefDB } from '../src/ref-db.js';
import { kvBackends } from '@gitfleet/test-support/stores';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

/** `kv`, running `race` once right after its first getMany: another writer acting between a read and the swap. */
function racedAfterFirstRead(kv: KVStore, race: () => Promise<unknown>): KVStore {
  let pending: (() => Promise<unknown>) | undefined = race;
  return new Proxy(kv, {
    get(target, property) {
      if (property === 'getMany') {
        return async (...args: Parameters<KVStore['getMany']>) => {
          const found = await target.getMany(...args);
          const run = pending;
          pending = undefined;
          await run?.();
          return found;
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

for (const backend of kvBackends) {
  describe(`setHeadIfUnborn over ${backend.name}`, () => {
    /** A repository whose HEAD names refs/heads/main, which does not exist, and a branch dev at A. */
    async function unborn(kv: KVStore): Promise<KVRefDB> {
      const refs = new KVRefDB('repo1', kv);
      await refs.setHead('refs/heads/main');
      await refs.update([{ name: 'refs/heads/dev', oldOid: ZERO_OID, newOid: A }], { atomic: true, message: 'push' });
      return refs;
    }

    test('points an unborn HEAD at an existing branch', async (t) => {
      const refs = await unborn(backend.open(t));
      assert.equal(await refs.setHeadIfUnborn('refs/heads/dev'), true);
      assert.equal(await refs.head(), 'refs/heads/dev');
      assert.equal(await refs.get('HEAD'), A);
      assert.equal(await refs.setHeadIfUnborn('refs/heads/dev'), true, 'already there');
    });

    test('leaves a HEAD whose branch exists, and never points it at a missing branch', async (t) => {
      const refs = await unborn(backend.open(t));
      assert.equal(await refs.setHeadIfUnborn('refs/heads/nope'), false);
      assert.equal(await refs.head(), 'refs/heads/main');
      await refs.update([{ name: 'refs/heads/main', oldOid: ZERO_OID, newOid: B }], { atomic: true, message: 'push' });
      assert.equal(await refs.setHeadIfUnborn('refs/heads/dev'), false);
      assert.equal(await refs.head(), 'refs/heads/main');
    });

    /** A RefDB over an unborn() repository, where `race` runs through another RefDB right after its first read. */
    async function racedBy(t: Parameters<typeof backend.open>[0], race: (other: KVRefDB) => Promise<unknown>): Promise<KVRefDB> {
      const kv = backend.open(t);
      const other = await unborn(kv);
      return new KVRefDB(
        'repo1',
        racedAfterFirstRead(kv, () => race(other)),
      );
    }

    test('a branch deleted between the read and the swap is not made the default', async (t) => {
      const refs = await racedBy(t, (other) =>
        other.update([{ name: 'refs/heads/dev', oldOid: A, newOid: ZERO_OID }], { atomic: true, message: 'delete' }),
      );
      assert.equal(await refs.setHeadIfUnborn('refs/heads/dev'), false);
      assert.equal(await refs.head(), 'refs/heads/main');
    });

    test('a default branch created between the read and the swap keeps HEAD', async (t) => {
      const refs = await racedBy(t, (other) =>
        other.update([{ name: 'refs/heads/main', oldOid: ZERO_OID, newOid: B }], { atomic: true, message: 'push' }),
      );
      assert.equal(await refs.setHeadIfUnborn('refs/heads/dev'), false);
      assert.equal(await refs.head(), 'refs/heads/main');
    });

    test('a branch that moved between the read and the swap still becomes the default', async (t) => {
      const refs = await racedBy(t, (other) =>
        other.update([{ name: 'refs/heads/dev', oldOid: A, newOid: B }], { atomic: true, message: 'push' }),
      );
      assert.equal(await refs.setHeadIfUnborn('refs/heads/dev'), true);
      assert.equal(await refs.head(), 'refs/heads/dev');
      assert.equal(await refs.get('HEAD'), B);
    });

    test('of two at once, one wins and the other finds HEAD born', async (t) => {
      const kv = backend.open(t);
      const refs = await unborn(kv);
      await refs.update([{ name: 'refs/heads/topic', oldOid: ZERO_OID, newOid: B }], { atomic: true, message: 'push' });
      const outcomes = await Promise.all([
        new KVRefDB('repo1', kv).setHeadIfUnborn('refs/heads/dev'),
        new KVRefDB('repo1', kv).setHeadIfUnborn('refs/heads/topic'),
      ]);
      assert.equal(outcomes.filter(Boolean).length, 1, `outcomes ${outcomes}`);
      assert.equal(await refs.head(), outcomes[0] ? 'refs/heads/dev' : 'refs/heads/topic');
    });
  });
}
