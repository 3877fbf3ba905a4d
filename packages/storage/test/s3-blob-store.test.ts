import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { concatenateBlobs, S3BlobStore, type BlobBody, type S3BlobStoreOptions } from '@gitfleet/storage';
import { runBlobStoreConformance } from '@gitfleet/storage/conformance';
import { testS3Connection, uniqueName } from '@gitfleet/test-support/stores';

// Runs against a real S3-compatible store (Ceph radosgw from scripts/servers/radosgw.sh),
// never against a mock: s3rver and the like ignore If-None-Match, so conditional-write
// tests would pass falsely.

const env = testS3Connection();

if (env === undefined) {
  describe('S3BlobStore', { skip: 'GITFLEET_SKIP_REMOTE_STORES=1' }, () => {});
} else if (env instanceof Error) {
  describe('S3BlobStore', () => {
    it('needs a running S3-compatible server', () => {
      throw env;
    });
  });
} else {
  const baseOptions = env;

  /** A store confined to a fresh prefix of the test bucket, and a cleanup that empties it. */
  function isolatedStore(options: Partial<S3BlobStoreOptions> = {}) {
    const prefix = `${uniqueName('test')}/`;
    const store = new S3BlobStore({ ...baseOptions, ...options, prefix });
    return {
      store,
      cleanup: async () => {
        const cleaner = new S3BlobStore({ ...baseOptions, prefix });
        try {
          const keys: string[] = [];
          for await (const { key } of cleaner.list('')) keys.push(key);
          await Promise.all(keys.map((key) => cleaner.delete(key)));
        } finally {
          await cleaner.close();
        }
      },
    };
  }

  runBlobStoreConformance('S3BlobStore (radosgw)', async () => isolatedStore());

  describe('S3BlobStore against radosgw', () => {
    const partSize = 5 * 1024 * 1024;
    let fixture: ReturnType<typeof isolatedStore>;
    before(() => {
      fixture = isolatedStore({ partSize, listPageSize: 7 });
    });
    after(async () => {
      await fixture.store.close();
      await fixture.cleanup();
    });

    it('lets exactly one of two concurrent conditional writes of one key win, round after round', async () => {
      const { store } = fixture;
      for (let round = 0; round < 20; round++) {
        const key = `race/round-${round}`;
        const bodies = [randomBytes(4096), randomBytes(5000)];
        const results = await Promise.all([store.putIfAbsent(key, bodies[0]), store.putIfAbsent(key, streamed(bodies[1]))]);
        assert.equal(results.filter(Boolean).length, 1, `round ${round}: ${results}`);
        assert.deepEqual(await store.get(key), bodies[results.indexOf(true)]);
      }
    });

    it('stores a body larger than one part as a multipart upload, and reads it back by ranges', async () => {
      const { store } = fixture;
      const bytes = randomBytes(2 * partSize + 12_345);
      assert.equal(await store.putIfAbsent('multipart/pack-1.pack', streamed(bytes, 1 << 20)), true);
      assert.deepEqual(await store.head('multipart/pack-1.pack'), { key: 'multipart/pack-1.pack', size: bytes.length });
      const start = partSize - 100;
      const end = partSize + 100;
      assert.deepEqual(await store.get('multipart/pack-1.pack', { start, end }), bytes.subarray(start, end));
      assert.ok((await store.get('multipart/pack-1.pack'))?.equals(bytes));
      assert.equal(await store.putIfAbsent('multipart/pack-1.pack', streamed(randomBytes(bytes.length))), false);
      assert.equal(await store.putIfAbsent('multipart/pack-1.pack', randomBytes(10)), false);
      assert.ok((await store.get('multipart/pack-1.pack'))?.equals(bytes), 'the first bytes stay');
    });

    it('concatenates blobs in the bucket, once, and refuses parts that are not as given', async () => {
      const { store } = fixture;
      const parts = [randomBytes(partSize), randomBytes(partSize), randomBytes(777)];
      const infos = await Promise.all(
        parts.map(async (bytes, i) => {
          await store.putIfAbsent(`concat/part-${i}`, bytes);
          return { key: `concat/part-${i}`, size: bytes.length };
        }),
      );
      assert.equal(await concatenateBlobs(store, 'concat/whole', infos), true);
      assert.ok((await store.get('concat/whole'))?.equals(Buffer.concat(parts)));
      assert.equal(await concatenateBlobs(store, 'concat/whole', infos.slice(1)), false);
      assert.ok((await store.get('concat/whole'))?.equals(Buffer.concat(parts)), 'the first bytes stay');
      await assert.rejects(concatenateBlobs(store, 'concat/other', [infos[0], { key: 'concat/absent', size: 5 }]), /not stored/);
      await assert.rejects(concatenateBlobs(store, 'concat/other', [{ ...infos[0], size: partSize + 1 }]), /not 5242881/);
      await assert.rejects(concatenateBlobs(store, 'concat/other', [infos[2], infos[0]]), RangeError);
      assert.equal(await store.head('concat/other'), undefined);
    });

    it('leaves nothing behind when a multipart body fails midway', async () => {
      const { store } = fixture;
      const body: BlobBody = {
        size: 3 * partSize,
        open: () =>
          Readable.from(
            (async function* () {
              yield Buffer.alloc(partSize + 1);
              yield Buffer.alloc(partSize);
              throw new Error('spool vanished');
            })(),
          ),
      };
      await assert.rejects(store.putIfAbsent('multipart/broken', body), /spool vanished/);
      assert.equal(await store.head('multipart/broken'), undefined);
      assert.equal(await store.putIfAbsent('multipart/broken', Buffer.from('now')), true);
    });

    it('lists more than one page of keys in order', async () => {
      const { store } = fixture;
      const keys = Array.from({ length: 30 }, (_, i) => `paged/k${String(i).padStart(3, '0')}`);
      await Promise.all(keys.map((key) => store.putIfAbsent(key, Buffer.from(key))));
      const listed: string[] = [];
      for await (const info of store.list('paged/')) listed.push(info.key);
      assert.deepEqual(listed, keys);
    });

    it('presigns reads that download the blob with no credential, by range too, until they expire; none for an absent blob', async () => {
      const { store } = fixture;
      const bytes = randomBytes(100_000);
      await store.putIfAbsent('presigned/pack-1.pack', bytes);
      // X-Amz-Date counts whole seconds, so a URL valid for N seconds may expire up to a second
      // sooner: 3 leaves the reads below at least 2 s.
      const url = (await store.directReadUrl('presigned/pack-1.pack', { expiresInSeconds: 3 })) ?? '';
      assert.ok(url.startsWith(env.endpoint), url);
      const whole = await fetch(url);
      assert.equal(whole.status, 200);
      assert.deepEqual(Buffer.from(await whole.arrayBuffer()), bytes);
      const ranged = await fetch(url, { headers: { range: 'bytes=10-19' } });
      assert.equal(ranged.status, 206);
      assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), bytes.subarray(10, 20));
      assert.equal(await store.directReadUrl('presigned/absent', { expiresInSeconds: 60 }), undefined);
      await sleep(3100);
      assert.equal((await fetch(url)).status, 403, 'expired');
    });

    it('refuses, at the store, a direct write of another hash, another length, or without its signed headers', async () => {
      const { store } = fixture;
      const bytes = Buffer.from('the bytes the URL was made for');
      const content = { size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
      const write = await store.directWriteUrl('direct/refused', content, { expiresInSeconds: 60 });
      const send = async (body: Buffer, headers = write.headers) =>
        (await fetch(write.url, { method: write.method, headers, body: new Uint8Array(body) })).status;
      const forged = Buffer.from(bytes);
      forged[0] ^= 1;
      assert.equal(await send(forged), 400);
      assert.equal(await send(bytes.subarray(1)), 403);
      assert.equal(await send(bytes, {}), 403);
      assert.equal(await store.head('direct/refused'), undefined);
      assert.equal(await store.completeDirectWrite('direct/refused', content), 'missing');
    });

    it('stores a direct write of the announced bytes, which completing then finds', async () => {
      const { store } = fixture;
      const bytes = Buffer.from('the bytes the URL was made for');
      const content = { size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
      const write = await store.directWriteUrl('direct/accepted', content, { expiresInSeconds: 60 });
      assert.equal((await fetch(write.url, { method: write.method, headers: write.headers, body: new Uint8Array(bytes) })).status, 200);
      assert.deepEqual(await store.get('direct/accepted'), bytes);
      assert.equal(await store.completeDirectWrite('direct/accepted', content), 'stored');
      assert.equal(await store.completeDirectWrite('direct/accepted', { ...content, size: bytes.length + 1 }), 'mismatch');
      assert.equal((await store.head('direct/accepted'))?.size, bytes.length, 'a wrong claim of size deletes nothing');
    });

    it('reports the failing request and status when the bucket does not exist', async () => {
      const store = new S3BlobStore({ ...baseOptions, bucket: 'gitfleet-no-such-bucket', maxAttempts: 1 });
      try {
        await assert.rejects(store.putIfAbsent('some/key', Buffer.from('x')), /S3 put of blob some\/key failed \(HTTP 404\)/);
      } finally {
        await store.close();
      }
    });
  });
}

function streamed(bytes: Buffer, chunkSize = 1000): BlobBody {
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
