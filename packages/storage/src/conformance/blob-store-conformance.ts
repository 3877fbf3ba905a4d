import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { BlobBody, BlobInfo, BlobStore } from '../blob-store.js';
import { InvalidKeyError } from '../errors.js';

export interface BlobStoreFixture {
  store: BlobStore;
  cleanup(): Promise<void>;
}

/**
 * The behaviour every BlobStore backend must have. Uses nothing but the interface, so
 * that every backend (filesystem, memory, S3…) runs exactly these cases.
 */
export function runBlobStoreConformance(name: string, factory: () => Promise<BlobStoreFixture>): void {
  async function withStore(body: (store: BlobStore) => Promise<void>): Promise<void> {
    const fixture = await factory();
    try {
      await body(fixture.store);
    } finally {
      await fixture.store.close();
      await fixture.cleanup();
    }
  }

  /** One store for a group of read-only cases, filled once by `fill`. */
  function sharedStore(fill: (store: BlobStore) => Promise<void>): () => BlobStore {
    let fixture: BlobStoreFixture | undefined;
    before(async () => {
      fixture = await factory();
      await fill(fixture.store);
    });
    after(async () => {
      await fixture?.store.close();
      await fixture?.cleanup();
    });
    return () => {
      if (!fixture) throw new Error('shared store used outside its describe block');
      return fixture.store;
    };
  }

  describe(`BlobStore conformance: ${name}`, () => {
    describe('putIfAbsent', () => {
      it('stores a buffer and reports that it wrote it', () =>
        withStore(async (store) => {
          const bytes = randomBytes(1000);
          assert.equal(await store.putIfAbsent('repo/packs/pack-1.pack', bytes), true);
          assert.deepEqual(await store.get('repo/packs/pack-1.pack'), bytes);
          assert.deepEqual(await store.head('repo/packs/pack-1.pack'), { key: 'repo/packs/pack-1.pack', size: 1000 });
        }));

      it('never overwrites an existing blob and reports false', () =>
        withStore(async (store) => {
          assert.equal(await store.putIfAbsent('k', Buffer.from('first')), true);
          assert.equal(await store.putIfAbsent('k', Buffer.from('second, longer')), false);
          assert.equal(await store.putIfAbsent('k', streamBody(Buffer.from('third'))), false);
          assert.equal((await store.get('k'))?.toString(), 'first');
        }));

      it('stores an empty blob', () =>
        withStore(async (store) => {
          assert.equal(await store.putIfAbsent('empty', Buffer.alloc(0)), true);
          assert.deepEqual(await store.head('empty'), { key: 'empty', size: 0 });
          assert.deepEqual(await store.get('empty'), Buffer.alloc(0));
          assert.deepEqual(await store.get('empty', { start: 0, end: 10 }), Buffer.alloc(0));
          assert.deepEqual(await collect(await store.getStream('empty')), Buffer.alloc(0));
        }));

      it('stores a streamed body of many chunks', () =>
        withStore(async (store) => {
          const bytes = randomBytes(3 * 1024 * 1024 + 17);
          assert.equal(await store.putIfAbsent('big/blob', streamBody(bytes, 64 * 1024 - 3)), true);
          assert.deepEqual(await store.head('big/blob'), { key: 'big/blob', size: bytes.length });
          assert.ok((await store.get('big/blob'))?.equals(bytes));
        }));

      it('refuses a streamed body shorter than declared and stores nothing', () =>
        withStore(async (store) => {
          const body = { size: 100, open: () => Readable.from([Buffer.alloc(99)]) };
          await assert.rejects(store.putIfAbsent('short', body), /short/);
          assert.equal(await store.head('short'), undefined);
          assert.deepEqual(await listKeys(store, ''), []);
          assert.equal(await store.putIfAbsent('short', Buffer.from('ok')), true, 'the key is still free');
        }));

      it('refuses a streamed body longer than declared and stores nothing', () =>
        withStore(async (store) => {
          const body = { size: 10, open: () => Readable.from([Buffer.alloc(6), Buffer.alloc(6)]) };
          await assert.rejects(store.putIfAbsent('long', body), /long/);
          assert.equal(await store.head('long'), undefined);
          assert.equal(await store.get('long'), undefined);
        }));

      it('refuses a body stream that fails and stores nothing', () =>
        withStore(async (store) => {
          const body = {
            size: 1000,
            open: () =>
              Readable.from(
                (async function* () {
                  yield Buffer.alloc(500);
                  throw new Error('disk on fire');
                })(),
              ),
          };
          await assert.rejects(store.putIfAbsent('failing', body), /disk on fire/);
          assert.equal(await store.head('failing'), undefined);
          assert.deepEqual(await listKeys(store, ''), []);
        }));

      it('shows nothing of a blob until its put has resolved', () =>
        withStore(async (store) => {
          let readRequested!: () => void;
          const firstReadRequested = new Promise<void>((resolve) => (readRequested = resolve));
          const stream = new Readable({ read: () => readRequested() });
          const put = store.putIfAbsent('slow/blob', { size: 8, open: () => stream });
          stream.push(Buffer.from('half'));
          await firstReadRequested;
          assert.equal(await store.head('slow/blob'), undefined);
          assert.equal(await store.get('slow/blob'), undefined);
          assert.equal(await store.getStream('slow/blob'), undefined);
          assert.deepEqual(await listKeys(store, ''), []);
          stream.push(Buffer.from('full'));
          stream.push(null);
          assert.equal(await put, true);
          assert.equal((await store.get('slow/blob'))?.toString(), 'halffull');
        }));

      it('lets exactly one of many concurrent puts of one key win', () =>
        withStore(async (store) => {
          const bodies = Array.from({ length: 8 }, (_, i) => Buffer.from(`writer ${i} `.repeat(1000 + i)));
          const results = await Promise.all(
            bodies.map((body, i) => store.putIfAbsent('race/key', i % 2 === 0 ? body : streamBody(body, 1000))),
          );
          assert.equal(results.filter(Boolean).length, 1, `results: ${JSON.stringify(results)}`);
          const winner = bodies[results.indexOf(true)];
          assert.deepEqual(await store.get('race/key'), winner);
          assert.deepEqual(await store.head('race/key'), { key: 'race/key', size: winner.length });
        }));

      it('stores concurrent puts of different keys under one new prefix', () =>
        withStore(async (store) => {
          const keys = Array.from({ length: 10 }, (_, i) => `fresh/deep/dir/blob-${i}`);
          const results = await Promise.all(keys.map((key) => store.putIfAbsent(key, Buffer.from(key))));
          assert.deepEqual(
            results,
            keys.map(() => true),
          );
          for (const key of keys) assert.equal((await store.get(key))?.toString(), key);
        }));

      it('keeps its own copy of the bytes', () =>
        withStore(async (store) => {
          const bytes = Buffer.from('original');
          await store.putIfAbsent('copy', bytes);
          bytes.fill(0);
          const read = await store.get('copy');
          assert.equal(read?.toString(), 'original');
          read?.fill(0);
          assert.equal((await store.get('copy'))?.toString(), 'original');
        }));
    });

    describe('get and getStream', () => {
      const size = 200_000;
      const bytes = randomBytes(size);
      const rangedStore = sharedStore(async (store) => {
        await store.putIfAbsent('ranged', bytes);
      });
      const ranges: Array<[number, number]> = [
        [0, size],
        [0, 0],
        [0, 1],
        [1, 2],
        [size - 1, size],
        [size, size],
        [12_345, 98_765],
        [65_535, 65_537],
        [100, size + 1000],
        [size + 5, size + 10],
        [size + 5, size + 5],
      ];

      for (const [start, end] of ranges) {
        it(`reads the range [${start}, ${end}) clamped to the blob`, async () => {
          const store = rangedStore();
          const expected = bytes.subarray(Math.min(start, size), Math.min(end, size));
          assert.deepEqual(await store.get('ranged', { start, end }), expected);
          assert.deepEqual(await collect(await store.getStream('ranged', { start, end })), expected);
        });
      }

      it('reads the whole blob as a stream', async () => {
        assert.deepEqual(await collect(await rangedStore().getStream('ranged')), bytes);
      });

      it('returns undefined for an absent key, with or without a range', () =>
        withStore(async (store) => {
          await store.putIfAbsent('present', Buffer.from('x'));
          assert.equal(await store.get('absent'), undefined);
          assert.equal(await store.get('absent', { start: 0, end: 0 }), undefined);
          assert.equal(await store.get('absent', { start: 0, end: 10 }), undefined);
          assert.equal(await store.getStream('absent'), undefined);
          assert.equal(await store.getStream('absent', { start: 0, end: 0 }), undefined);
          assert.equal(await store.head('absent'), undefined);
        }));

      it('treats a key that is only a prefix of other keys as absent', () =>
        withStore(async (store) => {
          await store.putIfAbsent('dir/inner', Buffer.from('x'));
          assert.equal(await store.get('dir'), undefined);
          assert.equal(await store.getStream('dir'), undefined);
          assert.equal(await store.head('dir'), undefined);
          await store.delete('dir');
          assert.equal((await store.get('dir/inner'))?.toString(), 'x');
        }));

      const invalidRanges: Array<[number, number]> = [
        [5, 4],
        [-1, 3],
        [0, -1],
        [0.5, 3],
        [0, Number.NaN],
        [0, Number.POSITIVE_INFINITY],
      ];
      for (const [start, end] of invalidRanges) {
        it(`refuses the invalid range [${start}, ${end}) with a RangeError`, async () => {
          const store = rangedStore();
          await assert.rejects(store.get('ranged', { start, end }), RangeError);
          await assert.rejects(store.getStream('ranged', { start, end }), RangeError);
        });
      }
    });

    describe('list', () => {
      // Chosen so that path-wise and byte-wise order differ: '-' and '.' sort before '/',
      // digits and letters after it.
      const keys = ['p/a/b', 'p/a/c/d', 'p/a-x', 'p/a.x', 'p/a0', 'p/ab', 'p/b', 'q/z', 'repo1/x', 'repo10/y', 'repo1-2/z', 'Z/upper'];

      const listedStore = sharedStore(async (store) => {
        for (const key of keys) await store.putIfAbsent(key, Buffer.from(`content of ${key}`));
      });

      const cases: Array<[string, string[]]> = [
        ['', [...keys].sort(byteOrder)],
        ['p/', ['p/a-x', 'p/a.x', 'p/a/b', 'p/a/c/d', 'p/a0', 'p/ab', 'p/b']],
        ['p/a', ['p/a-x', 'p/a.x', 'p/a/b', 'p/a/c/d', 'p/a0', 'p/ab']],
        ['p/a/', ['p/a/b', 'p/a/c/d']],
        ['p/a/c', ['p/a/c/d']],
        ['p/a/b', ['p/a/b']],
        ['p', ['p/a-x', 'p/a.x', 'p/a/b', 'p/a/c/d', 'p/a0', 'p/ab', 'p/b']],
        ['repo1/', ['repo1/x']],
        ['repo1', ['repo1-2/z', 'repo1/x', 'repo10/y']],
        ['p/zz', []],
        ['nothing/here/', []],
        ['../', []],
        ['./p', []],
        ['/p', []],
        ['p//', []],
      ];
      for (const [prefix, expected] of cases) {
        it(`lists prefix ${JSON.stringify(prefix)} in key order`, async () => {
          assert.deepEqual(await listKeys(listedStore(), prefix), expected);
        });
      }

      it('reports each blob with its size', async () => {
        const infos: BlobInfo[] = [];
        for await (const info of listedStore().list('p/a/')) infos.push(info);
        assert.deepEqual(infos, [
          { key: 'p/a/b', size: 'content of p/a/b'.length },
          { key: 'p/a/c/d', size: 'content of p/a/c/d'.length },
        ]);
      });

      it('lists nothing in an empty store', () =>
        withStore(async (store) => {
          assert.deepEqual(await listKeys(store, ''), []);
        }));

      it('refuses a prefix with characters no key can hold', async () => {
        await assert.rejects(listKeys(listedStore(), 'a b'), InvalidKeyError);
        await assert.rejects(listKeys(listedStore(), 'a\\b'), InvalidKeyError);
      });
    });

    describe('delete', () => {
      it('removes a blob, after which the key can be written again', () =>
        withStore(async (store) => {
          await store.putIfAbsent('gc/pack-1', Buffer.from('old'));
          await store.putIfAbsent('gc/pack-2', Buffer.from('kept'));
          await store.delete('gc/pack-1');
          assert.equal(await store.get('gc/pack-1'), undefined);
          assert.equal(await store.head('gc/pack-1'), undefined);
          assert.deepEqual(await listKeys(store, 'gc/'), ['gc/pack-2']);
          assert.equal(await store.putIfAbsent('gc/pack-1', Buffer.from('new')), true);
          assert.equal((await store.get('gc/pack-1'))?.toString(), 'new');
        }));

      it('is a no-op for an absent key', () =>
        withStore(async (store) => {
          await store.delete('never/written');
          await store.putIfAbsent('x', Buffer.from('x'));
          await store.delete('x');
          await store.delete('x');
          assert.deepEqual(await listKeys(store, ''), []);
        }));
    });

    describe('key validation', () => {
      const invalidKeys = [
        '',
        '/abs',
        'trailing/',
        'a//b',
        '..',
        '../escape',
        'a/../b',
        'a/./b',
        '.',
        'sp ace',
        'back\\slash',
        'nul\0',
        'é',
        'a'.repeat(256),
        `${'abc/'.repeat(300)}x`,
      ];
      for (const key of invalidKeys) {
        it(`refuses the key ${JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key)} with InvalidKeyError`, () =>
          withStore(async (store) => {
            await assert.rejects(store.putIfAbsent(key, Buffer.from('x')), InvalidKeyError);
            await assert.rejects(store.get(key), InvalidKeyError);
            await assert.rejects(store.getStream(key), InvalidKeyError);
            await assert.rejects(store.head(key), InvalidKeyError);
            await assert.rejects(store.delete(key), InvalidKeyError);
            assert.deepEqual(await listKeys(store, ''), []);
          }));
      }

      it('accepts every allowed character', () =>
        withStore(async (store) => {
          const key = 'AZaz09._-/.hidden/..dots/x-y_z.pack';
          assert.equal(await store.putIfAbsent(key, Buffer.from('ok')), true);
          assert.equal((await store.get(key))?.toString(), 'ok');
          assert.deepEqual(await listKeys(store, ''), [key]);
        }));
    });
  });
}

function streamBody(bytes: Buffer, chunkSize = 16 * 1024): BlobBody {
  return {
    size: bytes.length,
    open: () =>
      Readable.from(
        (function* () {
          for (let offset = 0; offset < bytes.length; offset += chunkSize) yield bytes.subarray(offset, offset + chunkSize);
        })(),
      ),
  };
}

async function collect(stream: Readable | undefined): Promise<Buffer | undefined> {
  if (!stream) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

async function listKeys(store: BlobStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of store.list(prefix)) keys.push(info.key);
  return keys;
}

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
