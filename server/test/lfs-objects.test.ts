import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { lfsBlobKey, LfsObjectRecords } from '@gitfleet/repository';
import {
  MemoryBlobStore,
  MemoryKVStore,
  type DirectWrite,
  type DirectWriteContent,
  type DirectWriteOutcome,
  type DirectWriteUrls,
} from '@gitfleet/storage';
import { HttpError } from '../src/http-errors.js';
import { parseBatchRequest } from '../src/lfs/batch-request.js';
import { LfsContentMismatch, LfsObjects, type ServerLinks } from '../src/lfs/objects.js';

const REPO = 'repo0123';
const OPTIONS = { direct: true, maxObjectBytes: 1024 * 1024, actionExpirySeconds: 600, resumableMinBytes: 1000 };
const BASIC = ['basic'];

const links: ServerLinks = {
  download: async (oid, size) => `https://server.test/download/${oid}/${size}`,
  upload: async (oid, size) => `https://server.test/upload/${oid}/${size}`,
  verify: async (oid, size) => `https://server.test/verify/${oid}/${size}`,
};

function objectOf(bytes: Buffer) {
  return { oid: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
}

function chunked(bytes: Buffer): Readable {
  return Readable.from([bytes.subarray(0, 7), bytes.subarray(7)]);
}

/** A store whose direct writes a test makes itself (putIfAbsent), as a client would through the URL. */
class DirectStore extends MemoryBlobStore implements DirectWriteUrls {
  async directWriteUrl(key: string, content: DirectWriteContent): Promise<DirectWrite> {
    return { method: 'PUT', url: `https://bucket.test/${key}`, headers: { 'x-amz-content-sha256': content.sha256 } };
  }

  async completeDirectWrite(key: string, content: DirectWriteContent): Promise<DirectWriteOutcome> {
    const info = await this.head(key);
    if (!info) return 'missing';
    return info.size === content.size ? 'stored' : 'mismatch';
  }
}

/** Objects over a store in memory that holds one object of 100 bytes in REPO. */
async function withOneObject() {
  const objects = new LfsObjects(new MemoryBlobStore(), new LfsObjectRecords(new MemoryKVStore()), OPTIONS);
  const bytes = randomBytes(100);
  const stored = objectOf(bytes);
  await objects.receive(REPO, stored, chunked(bytes));
  return { objects, stored };
}

describe('LfsObjects', () => {
  it('stores a streamed upload whose bytes are the object, once', async () => {
    const blobs = new MemoryBlobStore();
    const objects = new LfsObjects(blobs, new LfsObjectRecords(new MemoryKVStore()), OPTIONS);
    const bytes = randomBytes(5000);
    const object = objectOf(bytes);
    assert.equal(await objects.receive(REPO, object, chunked(bytes)), true);
    assert.deepEqual(await blobs.get(lfsBlobKey(REPO, object.oid)), bytes);
    assert.equal(await objects.receive(REPO, object, chunked(bytes)), false);
    assert.equal(await objects.verify(REPO, object), 'stored');
    assert.equal(lfsBlobKey(REPO, object.oid), `lfs/repos/${REPO}/${object.oid.slice(0, 2)}/${object.oid.slice(2, 4)}/${object.oid}`);
  });

  it('refuses an upload of other bytes, fewer or more, and stores nothing', async () => {
    const blobs = new MemoryBlobStore();
    const objects = new LfsObjects(blobs, new LfsObjectRecords(new MemoryKVStore()), OPTIONS);
    const bytes = randomBytes(5000);
    const object = objectOf(bytes);
    const forged = Buffer.from(bytes);
    forged[4999] ^= 1;
    await assert.rejects(objects.receive(REPO, object, chunked(forged)), LfsContentMismatch);
    await assert.rejects(objects.receive(REPO, object, chunked(bytes.subarray(1))), LfsContentMismatch);
    await assert.rejects(objects.receive(REPO, object, chunked(Buffer.concat([bytes, Buffer.from('x')]))), LfsContentMismatch);
    assert.equal(await blobs.head(lfsBlobKey(REPO, object.oid)), undefined);
    assert.equal(await objects.verify(REPO, object), 'missing');
  });

  it('answers a download batch per object: actions for what is stored, 404 and 422 for the rest', async () => {
    const { objects, stored } = await withOneObject();
    const missing = objectOf(Buffer.from('missing'));
    const answer = await objects.batch(
      REPO,
      { operation: 'download', objects: [stored, missing, { ...stored, size: 99 }, { oid: 'ABC', size: 1 }], transfers: BASIC },
      links,
    );
    assert.equal(answer.transfer, 'basic');
    assert.deepEqual(answer.objects[0], {
      ...stored,
      authenticated: true,
      actions: { download: { href: `https://server.test/download/${stored.oid}/100`, expires_in: 600 } },
    });
    assert.deepEqual(
      answer.objects.slice(1).map((object) => object.error?.code),
      [404, 422, 422],
    );
    // Another repository's objects are not this one's.
    const elsewhere = await objects.batch('other', { operation: 'download', objects: [stored], transfers: BASIC }, links);
    assert.equal(elsewhere.objects[0].error?.code, 404);
  });

  it('answers an upload batch: nothing for what is stored, upload and verify otherwise, 413 over the size limit', async () => {
    const { objects, stored } = await withOneObject();
    const fresh = objectOf(Buffer.from('fresh'));
    const huge = { oid: objectOf(Buffer.from('huge')).oid, size: OPTIONS.maxObjectBytes + 1 };
    const answer = await objects.batch(
      REPO,
      { operation: 'upload', objects: [stored, fresh, huge, { ...stored, size: 5 }], transfers: BASIC },
      links,
    );
    assert.deepEqual(answer.objects[0], { ...stored, authenticated: true });
    assert.deepEqual(answer.objects[1].actions, {
      upload: { href: `https://server.test/upload/${fresh.oid}/5`, expires_in: 600 },
      verify: { href: `https://server.test/verify/${fresh.oid}/5`, expires_in: 600 },
    });
    assert.equal(answer.objects[2].error?.code, 413);
    assert.equal(answer.objects[3].error?.code, 422);
  });

  it('keeps an object it answers "already stored" from maintenance, and refuses that answer while maintenance deletes it', async () => {
    const kv = new MemoryKVStore();
    const objects = new LfsObjects(new MemoryBlobStore(), new LfsObjectRecords(kv), OPTIONS);
    const bytes = randomBytes(100);
    const stored = objectOf(bytes);
    await objects.receive(REPO, stored, chunked(bytes));
    const sighting = `lfs-unreferenced:${stored.oid}`;
    await kv.compareAndSwap(`repo:${REPO}`, [{ key: sighting, expect: null, value: '2026-01-01T00:00:00.000Z' }], 'all');
    const kept = await objects.batch(REPO, { operation: 'upload', objects: [stored], transfers: BASIC }, links);
    assert.deepEqual(kept.objects[0], { ...stored, authenticated: true });
    assert.equal(await kv.get(`repo:${REPO}`, sighting), undefined, 'the grace period maintenance started is over');

    await kv.compareAndSwap(
      `repo:${REPO}`,
      [{ key: `lfs-collecting:${stored.oid}`, expect: null, value: '2026-01-01T00:00:00.000Z' }],
      'all',
    );
    const refused = await objects.batch(REPO, { operation: 'upload', objects: [stored], transfers: BASIC }, links);
    assert.equal(refused.objects[0].error?.code, 409);
  });

  it('sends uploads straight to a store that makes direct write URLs, unless told not to', async () => {
    const fresh = objectOf(Buffer.from('fresh'));
    const key = lfsBlobKey(REPO, fresh.oid);
    const direct = await new LfsObjects(new DirectStore(), new LfsObjectRecords(new MemoryKVStore()), OPTIONS).batch(
      REPO,
      { operation: 'upload', objects: [fresh], transfers: BASIC },
      links,
    );
    assert.deepEqual(direct.objects[0].actions, {
      upload: { href: `https://bucket.test/${key}`, header: { 'x-amz-content-sha256': fresh.oid }, expires_in: 600 },
      verify: { href: `https://server.test/verify/${fresh.oid}/5`, expires_in: 600 },
    });
    const viaServer = await new LfsObjects(new DirectStore(), new LfsObjectRecords(new MemoryKVStore()), {
      ...OPTIONS,
      direct: false,
    }).batch(REPO, { operation: 'upload', objects: [fresh], transfers: BASIC }, links);
    assert.equal((viaServer.objects[0].actions as { upload: { href: string } }).upload.href, `https://server.test/upload/${fresh.oid}/5`);
  });

  it('answers with the resumable transfer when offered: always through the server, from the size set where uploads could go direct', async () => {
    const small = objectOf(Buffer.from('small'));
    const large = { oid: 'b'.repeat(64), size: OPTIONS.resumableMinBytes };
    const offered = ['basic', 'tus'];
    const direct = new LfsObjects(new DirectStore(), new LfsObjectRecords(new MemoryKVStore()), OPTIONS);
    const smallOnly = await direct.batch(REPO, { operation: 'upload', objects: [small], transfers: offered }, links);
    assert.equal(smallOnly.transfer, 'basic');
    const withLarge = await direct.batch(REPO, { operation: 'upload', objects: [small, large], transfers: offered }, links);
    assert.equal(withLarge.transfer, 'tus');
    assert.deepEqual(
      withLarge.objects.map((object) => (object.actions as { upload: { href: string } }).upload.href),
      [`https://server.test/upload/${small.oid}/5`, `https://server.test/upload/${large.oid}/${large.size}`],
    );
    const viaServer = new LfsObjects(new DirectStore(), new LfsObjectRecords(new MemoryKVStore()), { ...OPTIONS, direct: false });
    assert.equal((await viaServer.batch(REPO, { operation: 'upload', objects: [small], transfers: offered }, links)).transfer, 'tus');
    assert.equal((await viaServer.batch(REPO, { operation: 'upload', objects: [small], transfers: BASIC }, links)).transfer, 'basic');
    assert.equal((await viaServer.batch(REPO, { operation: 'download', objects: [small], transfers: offered }, links)).transfer, 'basic');
  });
});

describe('parseBatchRequest', () => {
  const status = (body: unknown, maxObjects = 10) => {
    try {
      parseBatchRequest(body, maxObjects);
      return 200;
    } catch (error) {
      assert.ok(error instanceof HttpError);
      return error.status;
    }
  };

  it('takes the spec’s request, ref included', () => {
    assert.deepEqual(
      parseBatchRequest(
        {
          operation: 'upload',
          transfers: ['lfs-standalone-file', 'basic'],
          ref: { name: 'refs/heads/main' },
          objects: [{ oid: 'a', size: 1 }],
        },
        10,
      ),
      { operation: 'upload', objects: [{ oid: 'a', size: 1 }], transfers: ['basic'], refName: 'refs/heads/main' },
    );
    assert.deepEqual(parseBatchRequest({ operation: 'download', objects: [] }, 10).transfers, ['basic']);
    assert.deepEqual(parseBatchRequest({ operation: 'upload', objects: [], transfers: ['tus', 'ssh'] }, 10).transfers, ['tus']);
  });

  it('refuses what the spec refuses whole', () => {
    assert.equal(status([]), 422);
    assert.equal(status({ operation: 'push', objects: [] }), 422);
    assert.equal(status({ operation: 'download' }), 422);
    assert.equal(status({ operation: 'download', objects: [], hash_algo: 'sha512' }), 409);
    assert.equal(status({ operation: 'download', objects: [], transfers: ['tus'] }), 422);
    assert.equal(status({ operation: 'upload', objects: [], transfers: ['ssh'] }), 422);
    assert.equal(status({ operation: 'upload', objects: [], transfers: 'basic' }), 422);
    assert.equal(status({ operation: 'download', objects: [], ref: 'main' }), 422);
    assert.equal(status({ operation: 'download', objects: Array.from({ length: 11 }, () => ({ oid: 'a', size: 1 })) }), 413);
    assert.equal(status({ operation: 'download', objects: [], hash_algo: 'sha256' }), 200);
  });
});
