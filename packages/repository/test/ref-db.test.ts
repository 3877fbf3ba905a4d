import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ZERO_OID } from '@gitfleet/git-format';
import { InvalidRefName, KVRefDB, isValidRefName, type RefUpdateConflict } from '../src/ref-db.js';
import { maxEventLoopGap } from '@gitfleet/test-support/event-loop';
import { gitStatus } from '@gitfleet/test-support/git';
import { kvBackends } from '@gitfleet/test-support/stores';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

for (const backend of kvBackends) {
  describe(`RefDB over ${backend.name}`, () => {
    const open = (t: Parameters<typeof backend.open>[0]) => new KVRefDB('repo1', backend.open(t));

    test('creates refs and lists them sorted, by prefix, in one scan', async (t) => {
      const refs = open(t);
      const conflicts = await refs.update(
        [
          { name: 'refs/tags/v1', oldOid: ZERO_OID, newOid: C },
          { name: 'refs/heads/main', oldOid: ZERO_OID, newOid: A },
          { name: 'refs/heads/dev', oldOid: ZERO_OID, newOid: B },
        ],
        { atomic: true, message: 'push' },
      );
      assert.deepEqual(conflicts, []);
      assert.deepEqual(await refs.list(), [
        { name: 'refs/heads/dev', oid: B },
        { name: 'refs/heads/main', oid: A },
        { name: 'refs/tags/v1', oid: C },
      ]);
      assert.deepEqual(await refs.list('refs/tags/'), [{ name: 'refs/tags/v1', oid: C }]);
      assert.equal(await refs.get('refs/heads/main'), A);
      assert.equal(await refs.get('refs/heads/nope'), undefined);
    });

    test("lists refs in git's order, by the bytes of their names, escaped or not", async (t) => {
      const refs = open(t);
      // '%' and non-ASCII names are escaped in keys; 'é' (0xc3 0xa9) sorts after '{' by bytes,
      // and U+FF5E after U+1F600 (0xef… < 0xf0…) though not by UTF-16 code units.
      const names = [
        'refs/heads/{',
        'refs/heads/é',
        'refs/heads/%41',
        'refs/heads/B',
        'refs/heads/a',
        'refs/heads/\u{1F600}',
        'refs/heads/\uFF5E',
      ];
      await refs.update(
        names.map((name) => ({ name, oldOid: ZERO_OID, newOid: A })),
        { atomic: true, message: 'push' },
      );
      const expected = [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      assert.deepEqual(
        (await refs.list()).map((ref) => ref.name),
        expected,
      );
      assert.deepEqual(expected.slice(-2), ['refs/heads/\uFF5E', 'refs/heads/\u{1F600}']);
      // Without the non-ASCII names, the ASCII order is the same.
      await refs.update(
        names.filter((name) => /[^ -~]/.test(name)).map((name) => ({ name, oldOid: A, newOid: ZERO_OID })),
        { atomic: true, message: 'delete' },
      );
      assert.deepEqual(
        (await refs.list()).map((ref) => ref.name),
        ['refs/heads/%41', 'refs/heads/B', 'refs/heads/a', 'refs/heads/{'],
      );
    });

    test('atomic: one stale old id changes nothing and logs nothing', async (t) => {
      const refs = open(t);
      await refs.update([{ name: 'refs/heads/main', oldOid: ZERO_OID, newOid: A }], { atomic: true, message: 'init' });
      const conflicts = await refs.update(
        [
          { name: 'refs/heads/main', oldOid: B, newOid: C },
          { name: 'refs/heads/new', oldOid: ZERO_OID, newOid: C },
        ],
        { atomic: true, message: 'push' },
      );
      assert.deepEqual(conflicts, [{ name: 'refs/heads/main', kind: 'moved' }]);
      assert.deepEqual(await refs.list(), [{ name: 'refs/heads/main', oid: A }]);
      assert.equal((await refs.reflog('refs/heads/main')).length, 1);
      assert.deepEqual(await refs.reflog('refs/heads/new'), []);
    });

    test('each: the stale ref is refused, the others applied and logged', async (t) => {
      const refs = open(t);
      await refs.update([{ name: 'refs/heads/main', oldOid: ZERO_OID, newOid: A }], { atomic: true, message: 'init' });
      const conflicts = await refs.update(
        [
          { name: 'refs/heads/main', oldOid: B, newOid: C },
          { name: 'refs/heads/new', oldOid: ZERO_OID, newOid: C },
          { name: 'refs/heads/other', oldOid: A, newOid: C },
        ],
        { atomic: false, message: 'push' },
      );
      assert.deepEqual(conflicts, [
        { name: 'refs/heads/main', kind: 'moved' },
        { name: 'refs/heads/other', kind: 'moved' },
      ]);
      assert.deepEqual(await refs.list(), [
        { name: 'refs/heads/main', oid: A },
        { name: 'refs/heads/new', oid: C },
      ]);
      const [entry] = await refs.reflog('refs/heads/new');
      assert.equal(entry.oldOid, ZERO_OID);
      assert.equal(entry.newOid, C);
      assert.equal(entry.message, 'push');
      assert.ok(Number.isInteger(entry.timestamp) && entry.timestamp > 0);
    });

    test('ZERO_OID as new id deletes; as old id requires absence', async (t) => {
      const refs = open(t);
      await refs.update([{ name: 'refs/heads/gone', oldOid: ZERO_OID, newOid: A }], { atomic: true, message: 'create' });
      assert.deepEqual(await refs.update([{ name: 'refs/heads/gone', oldOid: ZERO_OID, newOid: B }], { atomic: true, message: 'again' }), [
        { name: 'refs/heads/gone', kind: 'moved' },
      ]);
      assert.deepEqual(
        await refs.update([{ name: 'refs/heads/gone', oldOid: A, newOid: ZERO_OID }], { atomic: true, message: 'delete' }),
        [],
      );
      assert.equal(await refs.get('refs/heads/gone'), undefined);
      assert.deepEqual(await refs.list(), []);
      assert.deepEqual(
        (await refs.reflog('refs/heads/gone')).map(({ oldOid, newOid, message }) => ({ oldOid, newOid, message })),
        [
          { oldOid: ZERO_OID, newOid: A, message: 'create' },
          { oldOid: A, newOid: ZERO_OID, message: 'delete' },
        ],
      );
    });

    test('reflog keeps every update, oldest first; limit gives the newest', async (t) => {
      const refs = open(t);
      const ids = [A, B, C, A];
      let previous = ZERO_OID;
      for (const [i, oid] of ids.entries()) {
        assert.deepEqual(
          await refs.update([{ name: 'refs/heads/main', oldOid: previous, newOid: oid }], { atomic: false, message: `step ${i}` }),
          [],
        );
        previous = oid;
      }
      assert.deepEqual(
        (await refs.reflog('refs/heads/main')).map((e) => e.newOid),
        ids,
      );
      assert.deepEqual(
        (await refs.reflog('refs/heads/main', 2)).map((e) => e.message),
        ['step 2', 'step 3'],
      );
    });

    test('HEAD is a symbolic ref; get("HEAD") follows it', async (t) => {
      const refs = open(t);
      await assert.rejects(refs.head(), /HEAD is missing/);
      await refs.setHead('refs/heads/main');
      assert.equal(await refs.head(), 'refs/heads/main');
      assert.equal(await refs.get('HEAD'), undefined, 'unborn');
      await refs.update([{ name: 'refs/heads/dev', oldOid: ZERO_OID, newOid: B }], { atomic: true, message: 'push' });
      await refs.setHead('refs/heads/dev');
      assert.equal(await refs.get('HEAD'), B);
      await assert.rejects(refs.setHead('main'), InvalidRefName);
      assert.equal(await refs.head(), 'refs/heads/dev');
      assert.deepEqual(await refs.list(), [{ name: 'refs/heads/dev', oid: B }], 'HEAD is not listed as a ref');
    });

    test('a batch with one bad name or id is refused whole', async (t) => {
      const refs = open(t);
      const good = { name: 'refs/heads/ok', oldOid: ZERO_OID, newOid: A };
      await assert.rejects(
        refs.update([good, { name: 'refs/heads/a..b', oldOid: ZERO_OID, newOid: A }], { atomic: false, message: 'x' }),
        InvalidRefName,
      );
      await assert.rejects(
        refs.update([good, { name: 'refs/heads/x', oldOid: ZERO_OID, newOid: 'nothex' }], { atomic: false, message: 'x' }),
        /not an object id/,
      );
      await assert.rejects(refs.update([good, good], { atomic: false, message: 'x' }), /twice/);
      assert.deepEqual(await refs.list(), []);
      assert.deepEqual(await refs.reflog('refs/heads/ok'), []);
    });

    test('ref names beyond ASCII round-trip and sort as git sorts them (by bytes)', async (t) => {
      const refs = open(t);
      const names = ['refs/heads/zebra', 'refs/heads/ünïcode', 'refs/heads/100%', 'refs/heads/日本', 'refs/heads/a%2F'];
      await refs.update(
        names.map((name) => ({ name, oldOid: ZERO_OID, newOid: A })),
        { atomic: true, message: 'push' },
      );
      const byBytes = [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      assert.deepEqual(
        (await refs.list()).map((r) => r.name),
        byBytes,
      );
      assert.deepEqual(
        (await refs.list('refs/heads/ü')).map((r) => r.name),
        ['refs/heads/ünïcode'],
      );
      assert.deepEqual(
        (await refs.list('refs/heads/100')).map((r) => r.name),
        ['refs/heads/100%'],
      );
      assert.equal(await refs.get('refs/heads/日本'), A);
      assert.equal(await refs.get('refs/heads/a/'), undefined);
      assert.equal((await refs.reflog('refs/heads/ünïcode')).length, 1);
    });

    test('a ref is not created beside a ref whose name is its directory, or under it (git cannot store both)', async (t) => {
      const refs = open(t);
      await refs.update(
        [
          { name: 'refs/heads/df', oldOid: ZERO_OID, newOid: A },
          { name: 'refs/heads/dir/leaf', oldOid: ZERO_OID, newOid: A },
        ],
        { atomic: true, message: 'init' },
      );
      const before = await refs.list();
      for (const atomic of [true, false]) {
        const conflicts = await refs.update(
          [
            { name: 'refs/heads/df/sub', oldOid: ZERO_OID, newOid: B },
            { name: 'refs/heads/dir', oldOid: ZERO_OID, newOid: B },
            { name: 'refs/heads/df/deeper/still', oldOid: ZERO_OID, newOid: B },
          ],
          { atomic, message: 'push' },
        );
        assert.deepEqual(conflicts, [
          { name: 'refs/heads/df/sub', kind: 'name-taken', other: { name: 'refs/heads/df', inBatch: false } },
          { name: 'refs/heads/dir', kind: 'name-taken', other: { name: 'refs/heads/dir/leaf', inBatch: false } },
          { name: 'refs/heads/df/deeper/still', kind: 'name-taken', other: { name: 'refs/heads/df', inBatch: false } },
        ]);
        assert.deepEqual(await refs.list(), before);
        assert.deepEqual(await refs.reflog('refs/heads/df/sub'), []);
      }
      // Names that only share a prefix of characters do not clash.
      assert.deepEqual(
        await refs.update(
          [
            { name: 'refs/heads/df-2', oldOid: ZERO_OID, newOid: B },
            { name: 'refs/heads/dirt/x', oldOid: ZERO_OID, newOid: B },
          ],
          { atomic: true, message: 'push' },
        ),
        [],
      );
    });

    test('two refs of one batch that clash: atomic refuses both, each applies the first', async (t) => {
      const refs = open(t);
      const batch = [
        { name: 'refs/heads/x', oldOid: ZERO_OID, newOid: A },
        { name: 'refs/heads/x/y', oldOid: ZERO_OID, newOid: B },
      ];
      assert.deepEqual(await refs.update(batch, { atomic: true, message: 'push' }), [
        { name: 'refs/heads/x/y', kind: 'name-taken', other: { name: 'refs/heads/x', inBatch: true } },
      ]);
      assert.deepEqual(await refs.list(), []);
      assert.deepEqual(await refs.update(batch, { atomic: false, message: 'push' }), [
        { name: 'refs/heads/x/y', kind: 'name-taken', other: { name: 'refs/heads/x', inBatch: false } },
      ]);
      assert.deepEqual(await refs.list(), [{ name: 'refs/heads/x', oid: A }]);
    });

    test('a batch may replace a ref by one under its name, and back, whatever the order of its updates', async (t) => {
      const refs = open(t);
      await refs.update([{ name: 'refs/heads/a', oldOid: ZERO_OID, newOid: A }], { atomic: true, message: 'init' });
      const down = [
        { name: 'refs/heads/a/b', oldOid: ZERO_OID, newOid: B },
        { name: 'refs/heads/a', oldOid: A, newOid: ZERO_OID },
      ];
      assert.deepEqual(await refs.update(down, { atomic: true, message: 'rename' }), []);
      assert.deepEqual(await refs.list(), [{ name: 'refs/heads/a/b', oid: B }]);
      const up = [
        { name: 'refs/heads/a', oldOid: ZERO_OID, newOid: C },
        { name: 'refs/heads/a/b', oldOid: B, newOid: ZERO_OID },
      ];
      assert.deepEqual(await refs.update(up, { atomic: false, message: 'rename back' }), []);
      assert.deepEqual(await refs.list(), [{ name: 'refs/heads/a', oid: C }]);
    });

    test('racing creations of a name and a name under it: never both', async (t) => {
      const refs = open(t);
      for (let round = 0; round < 20; round++) {
        const dir = `refs/heads/race${round}`;
        const results = await Promise.all([
          refs.update([{ name: dir, oldOid: ZERO_OID, newOid: A }], { atomic: round % 2 === 0, message: 'race' }),
          refs.update([{ name: `${dir}/sub`, oldOid: ZERO_OID, newOid: B }], { atomic: round % 2 === 1, message: 'race' }),
        ]);
        assert.equal(results.filter((conflicts) => conflicts.length === 0).length, 1, `round ${round}`);
        assert.equal((await refs.list(dir)).length, 1);
      }
    });

    test('racing updates from the same old id: exactly one wins', async (t) => {
      const refs = open(t);
      await refs.update([{ name: 'refs/heads/main', oldOid: ZERO_OID, newOid: A }], { atomic: true, message: 'init' });
      const contenders = Array.from({ length: 20 }, (_, i) => i.toString(16).padStart(40, '1'));
      const results = await Promise.all(
        contenders.map((oid) => refs.update([{ name: 'refs/heads/main', oldOid: A, newOid: oid }], { atomic: true, message: 'race' })),
      );
      const winners = contenders.filter((_, i) => results[i].length === 0);
      assert.equal(winners.length, 1);
      assert.equal(await refs.get('refs/heads/main'), winners[0]);
      assert.equal((await refs.reflog('refs/heads/main')).length, 2);
    });

    // The memory store is a test double that checks each created ref against every key.
    test('explains 10,000 refused refs without holding the event loop', { skip: backend.name === 'memory' }, async (t) => {
      const refs = open(t);
      await refs.update([{ name: 'refs/heads/a', oldOid: ZERO_OID, newOid: A }], { atomic: true, message: 'init' });
      const under = (dir: string, n: number) =>
        Array.from({ length: n }, (_, i) => ({ name: `${dir}/${String(i).padStart(5, '0')}`, oldOid: ZERO_OID, newOid: B }));
      let conflicts: RefUpdateConflict[] = [];
      // Before: every refused ref was explained by a pass over the whole batch (2 s for this one).
      const besideStored = await maxEventLoopGap(async () => {
        conflicts = await refs.update(under('refs/heads/a', 10_000), { atomic: false, message: 'push' });
      });
      assert.ok(besideStored < 250, `the event loop waited ${besideStored.toFixed(0)} ms`);
      assert.equal(conflicts.length, 10_000);
      assert.ok(conflicts.every((c) => c.kind === 'name-taken' && c.other?.name === 'refs/heads/a' && !c.other.inBatch));
      assert.equal(conflicts[9_999].name, 'refs/heads/a/09999');

      // Clashes inside the batch: a directory after the refs under it, and refs under a directory.
      const batch = [
        ...under('refs/heads/p', 5_000),
        { name: 'refs/heads/p', oldOid: ZERO_OID, newOid: B },
        { name: 'refs/heads/r', oldOid: ZERO_OID, newOid: B },
        ...under('refs/heads/r', 5_000),
      ];
      const inBatch = await maxEventLoopGap(async () => {
        conflicts = await refs.update(batch, { atomic: true, message: 'push' });
      });
      assert.ok(inBatch < 250, `the event loop waited ${inBatch.toFixed(0)} ms`);
      assert.equal(conflicts.length, 5_001);
      assert.deepEqual(conflicts[0], { name: 'refs/heads/p', kind: 'name-taken', other: { name: 'refs/heads/p/00000', inBatch: true } });
      assert.ok(conflicts.slice(1).every((c) => c.name.startsWith('refs/heads/r/') && c.other?.name === 'refs/heads/r' && c.other.inBatch));
      assert.deepEqual(await refs.list(), [{ name: 'refs/heads/a', oid: A }]);
    });
  });
}

describe('isValidRefName', () => {
  const candidates = [
    'refs/heads/main',
    'refs/heads/feature/x-1',
    'refs/tags/v1.0',
    'refs/heads/@',
    'refs/heads/a@b',
    'refs/heads/ünïcode',
    'refs/heads/100%',
    'refs/heads/a..b',
    'refs/heads/.hidden',
    'refs/heads/x/.y',
    'refs/heads/a.lock',
    'refs/heads/a.lock/b',
    'refs/heads/a.',
    'refs/heads/a/',
    'refs/heads//a',
    'refs/heads/a b',
    'refs/heads/a\tb',
    'refs/heads/a\x7fb',
    'refs/heads/a~1',
    'refs/heads/a^',
    'refs/heads/a:b',
    'refs/heads/a?',
    'refs/heads/a*',
    'refs/heads/a[b',
    'refs/heads/a\\b',
    'refs/heads/a@{1}',
    'refs/heads/a{b}',
    'refs/heads/-dash',
    'refs/heads/.',
    'refs/x',
  ];

  test('agrees with git check-ref-format on names under refs/', () => {
    for (const name of candidates) {
      const git = gitStatus('.', ['check-ref-format', name]).status === 0;
      assert.equal(isValidRefName(name), git, `${JSON.stringify(name)}: git says ${git ? 'valid' : 'invalid'}`);
    }
  });

  test('refuses names outside refs/ and empty components', () => {
    for (const name of ['HEAD', 'main', 'heads/main', 'refs/', 'refs', '', '/refs/heads/x', 'refs/heads/a\0b', 'refs/heads/\ud800']) {
      assert.equal(isValidRefName(name), false, JSON.stringify(name));
    }
  });
});
