import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidKeyError } from '../errors.js';
import type { CasOp, KVStore } from '../kv-store.js';

export interface KVStoreFixture {
  store: KVStore;
  /**
   * Opens another client on the same data (another connection, another process's view),
   * when the backend has such a thing. Cases about several clients are skipped without it.
   */
  connectAgain?(): Promise<KVStore>;
  cleanup(): Promise<void>;
}

/**
 * The behaviour every KVStore backend must have. Uses nothing but the interface, so
 * that every backend (SQLite, memory, Redis…) runs exactly these cases.
 */
export function runKVStoreConformance(name: string, factory: () => Promise<KVStoreFixture>): void {
  async function withFixture(body: (fixture: KVStoreFixture) => Promise<void>): Promise<void> {
    const fixture = await factory();
    try {
      await body(fixture);
    } finally {
      await fixture.store.close();
      await fixture.cleanup();
    }
  }
  const withStore = (body: (store: KVStore) => Promise<void>) => withFixture(({ store }) => body(store));

  const create = (key: string, value: string, log?: CasOp['log']): CasOp => ({ key, expect: null, value, log });

  describe(`KVStore conformance: ${name}`, () => {
    describe('get and getMany', () => {
      it('returns undefined for an absent key and the value for a present one', () =>
        withStore(async (store) => {
          assert.equal(await store.get('s', 'refs/heads/main'), undefined);
          await store.compareAndSwap('s', [create('refs/heads/main', 'abc')], 'all');
          assert.equal(await store.get('s', 'refs/heads/main'), 'abc');
        }));

      it('keeps scopes apart', () =>
        withStore(async (store) => {
          await store.compareAndSwap('repo-1', [create('k', 'one')], 'all');
          await store.compareAndSwap('repo-2', [create('k', 'two')], 'all');
          assert.equal(await store.get('repo-1', 'k'), 'one');
          assert.equal(await store.get('repo-2', 'k'), 'two');
          assert.equal(await store.get('repo-3', 'k'), undefined);
          assert.deepEqual(await store.scan('repo-1', ''), [{ key: 'k', value: 'one' }]);
        }));

      it('stores any string value, the empty string included (distinct from absent)', () =>
        withStore(async (store) => {
          const values = ['', ' spaces and\nnewlines\t', 'ünïcödé ✓ 🚀', '{"json":[1,2]}', '%_\\\'"', 'x'.repeat(100_000)];
          await store.compareAndSwap(
            's',
            values.map((value, i) => create(`k${i}`, value)),
            'all',
          );
          for (const [i, value] of values.entries()) assert.equal(await store.get('s', `k${i}`), value);
          const conflict = await store.compareAndSwap('s', [create('k0', 'not absent')], 'all');
          assert.deepEqual(conflict.conflicts, [0], 'an empty value is present');
          assert.deepEqual((await store.compareAndSwap('s', [{ key: 'k0', expect: '', value: 'now set' }], 'all')).conflicts, []);
          assert.equal(await store.get('s', 'k0'), 'now set');
        }));

      it('getMany returns the present keys only', () =>
        withStore(async (store) => {
          await store.compareAndSwap('s', [create('a', '1'), create('b', '2'), create('c', '3')], 'all');
          await store.compareAndSwap('other', [create('d', '4')], 'all');
          const found = await store.getMany('s', ['c', 'a', 'missing', 'd']);
          assert.deepEqual([...found].sort(), [
            ['a', '1'],
            ['c', '3'],
          ]);
          assert.deepEqual(await store.getMany('s', []), new Map());
        }));

      it('getMany handles many keys at once', () =>
        withStore(async (store) => {
          const ops = Array.from({ length: 2000 }, (_, i) => create(`refs/tags/v${i}`, `oid-${i}`));
          await store.compareAndSwap('s', ops, 'all');
          const keys = Array.from({ length: 4000 }, (_, i) => `refs/tags/v${i}`);
          const found = await store.getMany('s', keys);
          assert.equal(found.size, 2000);
          assert.equal(found.get('refs/tags/v1999'), 'oid-1999');
          assert.equal(found.has('refs/tags/v2000'), false);
        }));
    });

    describe('scan', () => {
      const keys = [
        'refs/heads/main',
        'refs/heads/feature/x',
        'refs/heads-not/a',
        'refs/headsx',
        'refs/tags/v1',
        'refs/tags/v1.0',
        'HEAD',
        'a%b',
        'a_b',
        'aXb',
        'a%%',
        'z~',
        'z~~',
        'z}',
      ];
      async function withKeys(body: (store: KVStore) => Promise<void>): Promise<void> {
        await withStore(async (store) => {
          await store.compareAndSwap(
            's',
            keys.map((key) => create(key, `v:${key}`)),
            'all',
          );
          await store.compareAndSwap('other', [create('refs/heads/elsewhere', 'x')], 'all');
          await body(store);
        });
      }
      const cases: Array<[string, string[]]> = [
        ['', [...keys].sort(byteOrder)],
        ['refs/heads/', ['refs/heads/feature/x', 'refs/heads/main']],
        ['refs/heads', ['refs/heads-not/a', 'refs/heads/feature/x', 'refs/heads/main', 'refs/headsx']],
        ['refs/tags/v1', ['refs/tags/v1', 'refs/tags/v1.0']],
        ['refs/tags/v1.0', ['refs/tags/v1.0']],
        ['a%', ['a%%', 'a%b']],
        ['a_', ['a_b']],
        ['z~', ['z~', 'z~~']],
        ['z', ['z}', 'z~', 'z~~']],
        ['refs/none/', []],
      ];
      for (const [prefix, expected] of cases) {
        it(`scans prefix ${JSON.stringify(prefix)} sorted by key`, () =>
          withKeys(async (store) => {
            const entries = await store.scan('s', prefix);
            assert.deepEqual(
              entries.map((entry) => entry.key),
              expected,
            );
            for (const entry of entries) assert.equal(entry.value, `v:${entry.key}`);
          }));
      }

      it('scans an unknown scope as empty', () =>
        withStore(async (store) => {
          assert.deepEqual(await store.scan('nobody', ''), []);
        }));
    });

    describe('compareAndSwap', () => {
      it('creates, updates and deletes when the expectation holds', () =>
        withStore(async (store) => {
          assert.deepEqual(await store.compareAndSwap('s', [create('k', 'v1')], 'all'), { conflicts: [] });
          assert.deepEqual(await store.compareAndSwap('s', [{ key: 'k', expect: 'v1', value: 'v2' }], 'all'), { conflicts: [] });
          assert.equal(await store.get('s', 'k'), 'v2');
          assert.deepEqual(await store.compareAndSwap('s', [{ key: 'k', expect: 'v2', value: null }], 'all'), { conflicts: [] });
          assert.equal(await store.get('s', 'k'), undefined);
          assert.deepEqual(await store.scan('s', ''), []);
        }));

      it('reports a conflict and changes nothing when the expectation fails', () =>
        withStore(async (store) => {
          await store.compareAndSwap('s', [create('k', 'v1')], 'all');
          for (const mode of ['all', 'each'] as const) {
            assert.deepEqual((await store.compareAndSwap('s', [create('k', 'other')], mode)).conflicts, [0]);
            assert.deepEqual((await store.compareAndSwap('s', [{ key: 'k', expect: 'v0', value: 'x' }], mode)).conflicts, [0]);
            assert.deepEqual((await store.compareAndSwap('s', [{ key: 'k', expect: 'v0', value: null }], mode)).conflicts, [0]);
            assert.deepEqual((await store.compareAndSwap('s', [{ key: 'absent', expect: 'v1', value: 'x' }], mode)).conflicts, [0]);
          }
          assert.deepEqual(await store.scan('s', ''), [{ key: 'k', value: 'v1' }]);
        }));

      it('treats deleting an absent key that is expected absent as applied', () =>
        withStore(async (store) => {
          const result = await store.compareAndSwap(
            's',
            [{ key: 'gone', expect: null, value: null, log: { name: 'l', entry: 'e' } }],
            'all',
          );
          assert.deepEqual(result.conflicts, []);
          assert.equal(await store.get('s', 'gone'), undefined);
          assert.deepEqual(await store.readLog('s', 'l'), ['e']);
        }));

      it("mode 'all' writes nothing and appends no log when any expectation fails, and reports every conflict", () =>
        withStore(async (store) => {
          await store.compareAndSwap('s', [create('a', '1'), create('b', '2')], 'all');
          const result = await store.compareAndSwap(
            's',
            [
              { key: 'a', expect: '1', value: '1b', log: { name: 'reflog/a', entry: 'a moved' } },
              { key: 'b', expect: 'wrong', value: '2b', log: { name: 'reflog/b', entry: 'b moved' } },
              { key: 'c', expect: null, value: '3', log: { name: 'reflog/c', entry: 'c created' } },
              { key: 'd', expect: 'wrong', value: null, log: { name: 'reflog/d', entry: 'd deleted' } },
            ],
            'all',
          );
          assert.deepEqual(result.conflicts, [1, 3]);
          assert.deepEqual(await store.scan('s', ''), [
            { key: 'a', value: '1' },
            { key: 'b', value: '2' },
          ]);
          for (const log of ['reflog/a', 'reflog/b', 'reflog/c', 'reflog/d']) assert.deepEqual(await store.readLog('s', log), []);
        }));

      it("mode 'all' applies every op and its log when all expectations hold", () =>
        withStore(async (store) => {
          await store.compareAndSwap('s', [create('a', '1'), create('b', '2')], 'all');
          const result = await store.compareAndSwap(
            's',
            [
              { key: 'a', expect: '1', value: '1b', log: { name: 'reflog/a', entry: 'a moved' } },
              { key: 'b', expect: '2', value: null, log: { name: 'reflog/b', entry: 'b deleted' } },
              { key: 'c', expect: null, value: '3', log: { name: 'reflog/a', entry: 'second entry' } },
            ],
            'all',
          );
          assert.deepEqual(result.conflicts, []);
          assert.deepEqual(await store.scan('s', ''), [
            { key: 'a', value: '1b' },
            { key: 'c', value: '3' },
          ]);
          assert.deepEqual(await store.readLog('s', 'reflog/a'), ['a moved', 'second entry']);
          assert.deepEqual(await store.readLog('s', 'reflog/b'), ['b deleted']);
        }));

      it("mode 'each' applies exactly the ops whose expectation holds, with their logs", () =>
        withStore(async (store) => {
          await store.compareAndSwap('s', [create('a', '1'), create('b', '2'), create('d', '4')], 'all');
          const result = await store.compareAndSwap(
            's',
            [
              { key: 'a', expect: 'stale', value: 'x', log: { name: 'reflog/a', entry: 'a moved' } },
              { key: 'b', expect: '2', value: '2b', log: { name: 'reflog/b', entry: 'b moved' } },
              { key: 'c', expect: null, value: '3', log: { name: 'reflog/c', entry: 'c created' } },
              { key: 'd', expect: null, value: 'dup', log: { name: 'reflog/d', entry: 'd created' } },
              { key: 'e', expect: null, value: null },
            ],
            'each',
          );
          assert.deepEqual(result.conflicts, [0, 3]);
          assert.deepEqual(await store.scan('s', ''), [
            { key: 'a', value: '1' },
            { key: 'b', value: '2b' },
            { key: 'c', value: '3' },
            { key: 'd', value: '4' },
          ]);
          assert.deepEqual(await store.readLog('s', 'reflog/a'), []);
          assert.deepEqual(await store.readLog('s', 'reflog/b'), ['b moved']);
          assert.deepEqual(await store.readLog('s', 'reflog/c'), ['c created']);
          assert.deepEqual(await store.readLog('s', 'reflog/d'), []);
        }));

      it('accepts an empty list of ops', () =>
        withStore(async (store) => {
          assert.deepEqual(await store.compareAndSwap('s', [], 'all'), { conflicts: [] });
          assert.deepEqual(await store.compareAndSwap('s', [], 'each'), { conflicts: [] });
        }));

      it('lets exactly one of many concurrent creations of one key win', () =>
        withStore(async (store) => {
          const results = await Promise.all(
            Array.from({ length: 16 }, (_, i) =>
              store.compareAndSwap(
                's',
                [create('refs/heads/main', `writer-${i}`, { name: 'reflog', entry: `writer-${i}` })],
                i % 2 ? 'all' : 'each',
              ),
            ),
          );
          const winners = results.flatMap((result, i) => (result.conflicts.length === 0 ? [i] : []));
          assert.equal(winners.length, 1);
          assert.equal(await store.get('s', 'refs/heads/main'), `writer-${winners[0]}`);
          assert.deepEqual(await store.readLog('s', 'reflog'), [`writer-${winners[0]}`]);
        }));

      it('loses no update when concurrent writers retry on conflict', () =>
        withStore(async (store) => {
          const writers = 6;
          const incrementsEach = 10;
          await Promise.all(Array.from({ length: writers }, (_, w) => incrementRepeatedly(store, `w${w}`, incrementsEach)));
          assert.equal(await store.get('s', 'counter'), String(writers * incrementsEach));
          assert.equal((await store.readLog('s', 'increments')).length, writers * incrementsEach);
        }));

      describe('requireAbsent', () => {
        const createUnder = (key: string, absent: CasOp['requireAbsent'], log?: string): CasOp => ({
          key,
          expect: null,
          value: `v:${key}`,
          requireAbsent: absent,
          log: log ? { name: log, entry: key } : undefined,
        });

        it('holds only when none of the keys and no key under the prefixes exists', () =>
          withStore(async (store) => {
            await store.compareAndSwap('s', [create('refs/heads/a', '1'), create('refs/heads/b/c', '2'), create('other/x', '3')], 'all');
            for (const mode of ['all', 'each'] as const) {
              assert.deepEqual(
                (await store.compareAndSwap('s', [createUnder('refs/heads/a/b', { keys: ['refs/heads', 'refs/heads/a'] })], mode))
                  .conflicts,
                [0],
              );
              assert.deepEqual(
                (await store.compareAndSwap('s', [createUnder('refs/heads/b', { prefixes: ['refs/heads/b/'] })], mode)).conflicts,
                [0],
              );
              assert.deepEqual((await store.compareAndSwap('s', [createUnder('z', { prefixes: [''] })], mode)).conflicts, [0]);
            }
            assert.deepEqual(
              (await store.scan('s', '')).map((e) => e.key),
              ['other/x', 'refs/heads/a', 'refs/heads/b/c'],
            );
            // A prefix is a byte prefix of keys: 'refs/heads/b/' does not cover 'refs/heads/bc'.
            const result = await store.compareAndSwap(
              's',
              [
                createUnder('refs/heads/bc', { prefixes: ['refs/heads/bc/'], keys: ['refs/heads/b'] }),
                createUnder('refs/heads/x/y', { keys: ['refs/heads/x'] }),
              ],
              'each',
            );
            assert.deepEqual(result.conflicts, []);
            assert.equal(await store.get('s', 'refs/heads/bc'), 'v:refs/heads/bc');
            assert.deepEqual(
              (await store.compareAndSwap('other-scope', [createUnder('refs/heads/a/b', { keys: ['refs/heads/a'] })], 'all')).conflicts,
              [],
            );
          }));

        it('sees the ops before it in the same call', () =>
          withStore(async (store) => {
            // 'each': the first applies, the second then conflicts with it.
            const each = await store.compareAndSwap(
              's',
              [createUnder('x', { prefixes: ['x/'] }, 'log-x'), createUnder('x/y', { keys: ['x'] }, 'log-xy')],
              'each',
            );
            assert.deepEqual(each.conflicts, [1]);
            assert.deepEqual(
              (await store.scan('s', '')).map((e) => e.key),
              ['x'],
            );
            assert.deepEqual(await store.readLog('s', 'log-x'), ['x']);
            assert.deepEqual(await store.readLog('s', 'log-xy'), []);
            // A deletion earlier in the call frees the name for a later op.
            const swap = await store.compareAndSwap(
              's',
              [{ key: 'x', expect: 'v:x', value: null }, createUnder('x/y', { keys: ['x'] })],
              'all',
            );
            assert.deepEqual(swap.conflicts, []);
            assert.deepEqual(
              (await store.scan('s', '')).map((e) => e.key),
              ['x/y'],
            );
          }));

        it("mode 'all' undoes the ops applied before a conflict and appends no log", () =>
          withStore(async (store) => {
            await store.compareAndSwap('s', [create('keep', 'k')], 'all');
            const result = await store.compareAndSwap(
              's',
              [
                { key: 'keep', expect: 'k', value: null, log: { name: 'l', entry: 'deleted' } },
                createUnder('p', { prefixes: ['p/'] }, 'l'),
                createUnder('p/q', { keys: ['p'] }, 'l'),
                { key: 'fresh', expect: null, value: 'f', log: { name: 'l', entry: 'fresh' } },
              ],
              'all',
            );
            assert.deepEqual(result.conflicts, [2]);
            assert.deepEqual(await store.scan('s', ''), [{ key: 'keep', value: 'k' }]);
            assert.deepEqual(await store.readLog('s', 'l'), []);
          }));

        it('refuses an invalid absent key or prefix up front', () =>
          withStore(async (store) => {
            await assert.rejects(store.compareAndSwap('s', [createUnder('k', { keys: ['bad key'] })], 'all'), InvalidKeyError);
            await assert.rejects(store.compareAndSwap('s', [createUnder('k', { prefixes: ['bad prefix'] })], 'each'), InvalidKeyError);
            assert.deepEqual(await store.scan('s', ''), []);
          }));

        it('lets one of two racing writers of a name and a name under it win, never both', () =>
          withFixture(async (fixture) => {
            const other = fixture.connectAgain ? await fixture.connectAgain() : fixture.store;
            try {
              for (let round = 0; round < 20; round++) {
                const dir = `race-${round}`;
                const results = await Promise.all([
                  fixture.store.compareAndSwap('s', [createUnder(dir, { prefixes: [`${dir}/`] })], round % 2 ? 'all' : 'each'),
                  other.compareAndSwap('s', [createUnder(`${dir}/sub`, { keys: [dir] })], round % 2 ? 'each' : 'all'),
                ]);
                assert.equal(results.filter((result) => result.conflicts.length === 0).length, 1, `round ${round}`);
                assert.equal((await fixture.store.scan('s', dir)).length, 1, `round ${round}`);
              }
            } finally {
              if (other !== fixture.store) await other.close();
            }
          }));
      });

      it('refuses a key that appears twice, changing nothing', () =>
        withStore(async (store) => {
          for (const mode of ['all', 'each'] as const) {
            await assert.rejects(
              store.compareAndSwap('s', [create('k', '1'), create('other', '2'), create('k', '3')], mode),
              InvalidKeyError,
            );
          }
          assert.deepEqual(await store.scan('s', ''), []);
        }));

      it('refuses an invalid op up front, changing nothing', () =>
        withStore(async (store) => {
          for (const mode of ['all', 'each'] as const) {
            await assert.rejects(store.compareAndSwap('s', [create('ok', '1'), create('bad key', '2')], mode), InvalidKeyError);
            await assert.rejects(store.compareAndSwap('s', [create('ok', '1', { name: 'bad log', entry: 'e' })], mode), InvalidKeyError);
          }
          assert.deepEqual(await store.scan('s', ''), []);
          await assert.rejects(store.compareAndSwap('s', [create('ok', '1')], 'some' as 'all'), RangeError);
          assert.deepEqual(await store.scan('s', ''), []);
        }));
    });

    describe('logs', () => {
      it('appends and reads a log oldest first', () =>
        withStore(async (store) => {
          const entries = ['first', '', 'with\nnewline and spaces', 'ünïcödé', 'last'];
          for (const entry of entries) await store.append('s', 'reflog/refs/heads/main', entry);
          assert.deepEqual(await store.readLog('s', 'reflog/refs/heads/main'), entries);
        }));

      it('returns the newest `limit` entries, oldest first', () =>
        withStore(async (store) => {
          for (let i = 0; i < 10; i++) await store.append('s', 'log', `e${i}`);
          assert.deepEqual(await store.readLog('s', 'log', { limit: 3 }), ['e7', 'e8', 'e9']);
          assert.deepEqual(await store.readLog('s', 'log', { limit: 1 }), ['e9']);
          assert.deepEqual(await store.readLog('s', 'log', { limit: 0 }), []);
          assert.equal((await store.readLog('s', 'log', { limit: 100 })).length, 10);
          assert.equal((await store.readLog('s', 'log', {})).length, 10);
          await assert.rejects(store.readLog('s', 'log', { limit: -1 }), RangeError);
          await assert.rejects(store.readLog('s', 'log', { limit: 1.5 }), RangeError);
        }));

      it('keeps logs apart by scope and name, and interleaves CAS logs in order', () =>
        withStore(async (store) => {
          await store.append('s', 'a', 'a1');
          await store.append('s', 'b', 'b1');
          await store.append('t', 'a', 'ta1');
          await store.compareAndSwap('s', [create('k', 'v', { name: 'a', entry: 'a2' })], 'all');
          await store.append('s', 'a', 'a3');
          assert.deepEqual(await store.readLog('s', 'a'), ['a1', 'a2', 'a3']);
          assert.deepEqual(await store.readLog('s', 'b'), ['b1']);
          assert.deepEqual(await store.readLog('t', 'a'), ['ta1']);
          assert.deepEqual(await store.readLog('t', 'b'), []);
          assert.deepEqual(await store.readLog('u', 'a'), []);
        }));

      it('keeps every concurrent append', () =>
        withStore(async (store) => {
          await Promise.all(Array.from({ length: 50 }, (_, i) => store.append('s', 'log', `e${i}`)));
          const entries = await store.readLog('s', 'log');
          assert.deepEqual([...entries].sort(), Array.from({ length: 50 }, (_, i) => `e${i}`).sort());
        }));
    });

    describe('name validation', () => {
      const invalidNames = ['', 'with space', 'tab\t', 'new\nline', 'ünï', '\x7f'];
      for (const bad of invalidNames) {
        it(`refuses the scope, key or log name ${JSON.stringify(bad)} with InvalidKeyError`, () =>
          withStore(async (store) => {
            await assert.rejects(store.get(bad, 'k'), InvalidKeyError);
            await assert.rejects(store.get('s', bad), InvalidKeyError);
            await assert.rejects(store.getMany('s', ['ok', bad]), InvalidKeyError);
            await assert.rejects(store.scan(bad, ''), InvalidKeyError);
            await assert.rejects(store.compareAndSwap(bad, [create('k', 'v')], 'all'), InvalidKeyError);
            await assert.rejects(store.compareAndSwap('s', [create(bad, 'v')], 'each'), InvalidKeyError);
            await assert.rejects(store.append(bad, 'log', 'e'), InvalidKeyError);
            await assert.rejects(store.append('s', bad, 'e'), InvalidKeyError);
            await assert.rejects(store.readLog('s', bad), InvalidKeyError);
            assert.deepEqual(await store.scan('s', ''), []);
          }));
      }

      it('refuses a scan prefix with characters no key can hold', () =>
        withStore(async (store) => {
          await assert.rejects(store.scan('s', 'a b'), InvalidKeyError);
        }));
    });

    describe('several clients on the same data', () => {
      it('sees writes of another client', () =>
        withFixture(async (fixture) => {
          if (!fixture.connectAgain) return;
          const other = await fixture.connectAgain();
          try {
            await fixture.store.compareAndSwap('s', [create('k', 'v', { name: 'log', entry: 'e' })], 'all');
            assert.equal(await other.get('s', 'k'), 'v');
            assert.deepEqual(await other.readLog('s', 'log'), ['e']);
            assert.deepEqual((await other.compareAndSwap('s', [create('k', 'again')], 'all')).conflicts, [0]);
          } finally {
            await other.close();
          }
        }));

      it('lets exactly one of two clients win a race on the same key', () =>
        withFixture(async (fixture) => {
          if (!fixture.connectAgain) return;
          const other = await fixture.connectAgain();
          try {
            for (let round = 0; round < 10; round++) {
              const key = `round-${round}`;
              const results = await Promise.all([
                fixture.store.compareAndSwap('s', [create(key, 'first', { name: key, entry: 'first' })], 'all'),
                other.compareAndSwap('s', [create(key, 'second', { name: key, entry: 'second' })], 'all'),
              ]);
              const winners = results.filter((result) => result.conflicts.length === 0);
              assert.equal(winners.length, 1, `round ${round}`);
              const value = await other.get('s', key);
              assert.equal(value, results[0].conflicts.length === 0 ? 'first' : 'second');
              assert.deepEqual(await fixture.store.readLog('s', key), [value]);
            }
            await Promise.all([incrementRepeatedly(fixture.store, 'one', 10), incrementRepeatedly(other, 'two', 10)]);
            assert.equal(await fixture.store.get('s', 'counter'), '20');
          } finally {
            await other.close();
          }
        }));

      it('keeps data after a client closes', () =>
        withFixture(async (fixture) => {
          if (!fixture.connectAgain) return;
          await fixture.store.compareAndSwap('s', [create('durable', 'yes')], 'all');
          await fixture.store.append('s', 'log', 'kept');
          const other = await fixture.connectAgain();
          try {
            await fixture.store.close();
            assert.equal(await other.get('s', 'durable'), 'yes');
            assert.deepEqual(await other.readLog('s', 'log'), ['kept']);
          } finally {
            await other.close();
          }
        }));
    });
  });
}

/** Increments s/counter `times` times by CAS, retrying on conflict as a pusher would. */
async function incrementRepeatedly(store: KVStore, writer: string, times: number): Promise<void> {
  for (let done = 0; done < times;) {
    const current = await store.get('s', 'counter');
    const next = String(Number(current ?? '0') + 1);
    const result = await store.compareAndSwap(
      's',
      [{ key: 'counter', expect: current ?? null, value: next, log: { name: 'increments', entry: `${writer}:${next}` } }],
      'each',
    );
    if (result.conflicts.length === 0) done++;
  }
}

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
