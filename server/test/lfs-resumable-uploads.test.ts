import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { lfsBlobKey, lfsUploadsBlobPrefix, LfsObjectRecords } from '@gitfleet/repository';
import { MemoryBlobStore, MemoryKVStore, MIN_CONCATENATED_PART_BYTES, type BlobInfo } from '@gitfleet/storage';
import { LfsContentMismatch } from '../src/lfs/objects.js';
import { ResumableUploads, UploadOffsetConflict, UploadOverQuota } from '../src/lfs/resumable-uploads.js';

const REPO = 'repo0123';
const PIECE = MIN_CONCATENATED_PART_BYTES;

function objectOf(bytes: Buffer) {
  return { oid: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
}

/** The bytes in chunks as a request body arrives them, whose ends do not fall on the pieces' ends. */
function body(bytes: Buffer): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += 65537) chunks.push(bytes.subarray(at, at + 65537));
  return Readable.from(chunks);
}

/** A body that sends `bytes` and then breaks off, as a client whose connection drops. */
function brokenBody(bytes: Buffer): Readable {
  return Readable.from(
    (async function* () {
      yield* body(bytes);
      throw new Error('connection reset');
    })(),
  );
}

async function listed(blobs: MemoryBlobStore, prefix: string): Promise<BlobInfo[]> {
  const found: BlobInfo[] = [];
  for await (const blob of blobs.list(prefix)) found.push(blob);
  return found;
}

/** A memory store that counts streamed reads, and fails the writes of one key a given number of times. */
class WatchedStore extends MemoryBlobStore {
  streamsOpened = 0;
  failingKey: string | undefined;
  failuresLeft = 0;

  override async getStream(...args: Parameters<MemoryBlobStore['getStream']>) {
    this.streamsOpened++;
    return super.getStream(...args);
  }

  override async putIfAbsent(...args: Parameters<MemoryBlobStore['putIfAbsent']>) {
    if (args[0] === this.failingKey && this.failuresLeft > 0) {
      this.failuresLeft--;
      throw new Error('store unavailable (503)');
    }
    return super.putIfAbsent(...args);
  }
}

function setup() {
  const blobs = new WatchedStore();
  const records = new LfsObjectRecords(new MemoryKVStore());
  return { blobs, records, uploads: () => new ResumableUploads(blobs, records, { pieceBytes: PIECE }) };
}

describe('ResumableUploads', () => {
  const bytes = randomBytes(2 * PIECE + 12345);
  const content = objectOf(bytes);

  it('stores an object sent whole, recorded, and leaves no piece behind', async () => {
    const { blobs, records, uploads } = setup();
    const upload = uploads();
    assert.equal(await upload.offset(REPO, content), 0);
    assert.equal(await upload.append(REPO, content, 0, body(bytes)), content.size);
    assert.deepEqual(await blobs.get(lfsBlobKey(REPO, content.oid)), bytes);
    assert.equal(await records.repositoryBytes(REPO), content.size);
    assert.deepEqual(await listed(blobs, lfsUploadsBlobPrefix(REPO)), []);
    assert.equal(await upload.offset(REPO, content), content.size);
  });

  it('keeps the whole pieces of a broken upload, and another process resumes after them', async () => {
    const { blobs, uploads } = setup();
    await assert.rejects(uploads().append(REPO, content, 0, brokenBody(bytes.subarray(0, PIECE + 1000))), /connection reset/);
    assert.equal((await listed(blobs, lfsUploadsBlobPrefix(REPO))).length, 1);
    // A new instance holds no hash state: it reads the first piece back to hash it.
    const resumed = uploads();
    assert.equal(await resumed.offset(REPO, content), PIECE);
    assert.equal(await resumed.append(REPO, content, PIECE, body(bytes.subarray(PIECE))), content.size);
    assert.deepEqual(await blobs.get(lfsBlobKey(REPO, content.oid)), bytes);
    assert.deepEqual(await listed(blobs, lfsUploadsBlobPrefix(REPO)), []);
  });

  it('resumes with the hash it kept, and takes the rest in requests of any length', async () => {
    const { blobs, uploads } = setup();
    const upload = uploads();
    assert.equal(await upload.append(REPO, content, 0, body(bytes.subarray(0, PIECE - 1))), 0, 'a piece is kept only whole');
    assert.equal(await upload.append(REPO, content, 0, body(bytes.subarray(0, PIECE))), PIECE);
    assert.equal(await upload.append(REPO, content, PIECE, body(bytes.subarray(PIECE, 2 * PIECE))), 2 * PIECE);
    assert.equal(await upload.append(REPO, content, 2 * PIECE, body(bytes.subarray(2 * PIECE))), content.size);
    assert.deepEqual(await blobs.get(lfsBlobKey(REPO, content.oid)), bytes);
  });

  it('refuses a request that does not start where the upload stands', async () => {
    const { uploads } = setup();
    const upload = uploads();
    await upload.append(REPO, content, 0, body(bytes.subarray(0, PIECE)));
    const conflict = await upload.append(REPO, content, 0, body(bytes)).catch((error: unknown) => error);
    assert.ok(conflict instanceof UploadOffsetConflict);
    assert.equal(conflict.current, PIECE);
    await assert.rejects(upload.append(REPO, content, 100, body(bytes.subarray(100))), UploadOffsetConflict);
  });

  it('stores nothing, and removes the pieces, when the whole is not the oid', async () => {
    const { blobs, records, uploads } = setup();
    const forged = Buffer.from(bytes);
    forged[PIECE + 5] ^= 1;
    const upload = uploads();
    await assert.rejects(upload.append(REPO, content, 0, body(forged)), LfsContentMismatch);
    assert.equal(await blobs.head(lfsBlobKey(REPO, content.oid)), undefined);
    assert.equal(await records.repositoryBytes(REPO), 0);
    assert.deepEqual(await listed(blobs, lfsUploadsBlobPrefix(REPO)), []);
    assert.equal(await upload.offset(REPO, content), 0);
  });

  it('refuses more bytes than the object has', async () => {
    const { blobs, uploads } = setup();
    await assert.rejects(uploads().append(REPO, content, 0, body(Buffer.concat([bytes, Buffer.from('x')]))), RangeError);
    assert.equal(await blobs.head(lfsBlobKey(REPO, content.oid)), undefined);
  });

  it('asks again for the last piece when every piece is in but the object was never made of them', async () => {
    const { blobs, uploads } = setup();
    const upload = uploads();
    await upload.append(REPO, content, 0, body(bytes));
    // As if the process had stopped between the last piece and the concatenation: the pieces, no object.
    await blobs.delete(lfsBlobKey(REPO, content.oid));
    const pieceKeys = ['0', String(PIECE), String(2 * PIECE)].map(
      (offset) => `${lfsUploadsBlobPrefix(REPO)}${content.oid}-${content.size}/${offset.padStart(16, '0')}-0123456789abcdef`,
    );
    for (const [i, key] of pieceKeys.entries()) await blobs.putIfAbsent(key, bytes.subarray(i * PIECE, (i + 1) * PIECE));
    const fresh = uploads();
    assert.equal(await fresh.offset(REPO, content), 2 * PIECE);
    assert.equal(await fresh.append(REPO, content, 2 * PIECE, body(bytes.subarray(2 * PIECE))), content.size);
    assert.deepEqual(await blobs.get(lfsBlobKey(REPO, content.oid)), bytes);
  });

  it('stores an empty object', async () => {
    const { blobs, uploads } = setup();
    const empty = objectOf(Buffer.alloc(0));
    assert.equal(await uploads().append(REPO, empty, 0, body(Buffer.alloc(0))), 0);
    assert.equal((await blobs.head(lfsBlobKey(REPO, empty.oid)))?.size, 0);
  });

  it('keeps every piece when making the object fails for another reason than its bytes, and makes it on the next try', async () => {
    const { blobs, uploads } = setup();
    blobs.failingKey = lfsBlobKey(REPO, content.oid);
    blobs.failuresLeft = 1;
    const upload = uploads();
    await assert.rejects(upload.append(REPO, content, 0, body(bytes)), /store unavailable/);
    assert.equal((await listed(blobs, lfsUploadsBlobPrefix(REPO))).length, 3);
    assert.equal(await upload.offset(REPO, content), 2 * PIECE, 'the last piece is asked for again');
    assert.equal(await upload.append(REPO, content, 2 * PIECE, body(bytes.subarray(2 * PIECE))), content.size);
    assert.deepEqual(await blobs.get(lfsBlobKey(REPO, content.oid)), bytes);
  });

  it('reads the pieces back once per process to resume, however many requests come without a byte', async () => {
    const { blobs, uploads } = setup();
    await uploads().append(REPO, content, 0, body(bytes.subarray(0, 2 * PIECE)));
    const resumed = uploads();
    for (let i = 0; i < 3; i++) assert.equal(await resumed.append(REPO, content, 2 * PIECE, body(Buffer.alloc(0))), 2 * PIECE);
    assert.equal(blobs.streamsOpened, 2, 'each of the two pieces read once');
  });

  it('refuses the rest of an upload that the quota leaves no room for, counting the uploads under way', async () => {
    const { blobs, uploads } = setup();
    const other = objectOf(randomBytes(PIECE + 10));
    await uploads().append(REPO, other, 0, body(Buffer.alloc(PIECE)), undefined);
    const refused = await uploads()
      .append(REPO, content, 0, body(bytes), content.size + PIECE - 1)
      .catch((error: unknown) => error);
    assert.ok(refused instanceof UploadOverQuota, String(refused));
    assert.match(refused.message, new RegExp(`uploads under way in this repository hold ${PIECE}`));
    assert.equal(await blobs.head(lfsBlobKey(REPO, content.oid)), undefined);
    assert.equal(await uploads().append(REPO, content, 0, body(bytes), content.size + PIECE), content.size);
  });

  it('records an object found stored, which the client then neither sends nor verifies', async () => {
    const { blobs, records, uploads } = setup();
    await blobs.putIfAbsent(lfsBlobKey(REPO, content.oid), bytes);
    assert.equal(await records.repositoryBytes(REPO), 0);
    assert.equal(await uploads().offset(REPO, content), content.size);
    assert.equal(await records.repositoryBytes(REPO), content.size);
  });
});
