import { createHash, randomBytes, type Hash } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import { concatenateBlobs, type BlobInfo, type BlobStore } from '@gitfleet/storage';
import { lfsBlobKey, lfsUploadsBlobPrefix, type LfsObjectRecords } from '@gitfleet/repository';
import { OperationError } from '../operations/errors.js';
import { LfsContentMismatch, type LfsContent } from './objects.js';

/**
 * Uploads of Git LFS objects that resume where they broke off: the tus.io protocol as git-lfs's
 * `tus` adapter speaks it (HEAD for the offset the server holds, then one PATCH with the rest).
 *
 * The bytes are kept as PIECES in the blob store, so that any server process can take the next
 * request and a crash loses no more than the piece being written:
 *
 *   `lfs/repos/<repository id>/uploads/<oid>-<size>/<offset, 16 digits>-<random>`
 *
 * Piece i covers bytes [i × pieceBytes, (i + 1) × pieceBytes) of the object, the last one its
 * tail. Fixed boundaries bound the pieces of an upload (a client sending one byte per request
 * stores nothing), and a piece is published only whole, as any blob, so what the pieces hold is
 * always a prefix of what the client sent. Each piece's name is new: a key once read is never
 * rewritten, so an upload that hashed some pieces concatenates exactly those.
 *
 * The SHA-256 of the object is taken as the bytes stream in. A request that resumes on a process
 * that does not hold the hash of the bytes before its offset (kept per upload, for the chain of
 * pieces it was taken over) reads those pieces back to hash them, once per process: work bounded
 * by the object's size. Once the last byte is in and the hash is the oid, the pieces are
 * concatenated into the object (by the store itself on S3) and removed; a request that brings the
 * last piece again meanwhile waits for that. When the hash is not the oid, the pieces that request
 * hashed are removed and nothing is stored; when making the object fails otherwise, every piece
 * stays, and the client resumes at the last one.
 *
 * The pieces of a repository's uploads under way count against the owner's storage quota beside
 * the rest of the upload; those of an upload nobody adds to are collected by maintenance.
 */
export interface ResumableUploadOptions {
  /** Bytes per piece: the most a broken transfer sends again. At least S3's 5 MiB part. */
  pieceBytes: number;
}

/** A PATCH whose Upload-Offset is not where the upload stands (tus answers 409). */
export class UploadOffsetConflict extends OperationError {
  readonly kind = 'conflict';
  constructor(
    readonly requested: number,
    readonly current: number,
  ) {
    super(`the upload stands at byte ${current}, not ${requested}: ask for the offset (HEAD) and send from there`);
    this.name = 'UploadOffsetConflict';
  }
}

/** The rest of an upload would not fit in the owner's storage quota, counting the pieces of the repository's uploads under way. */
export class UploadOverQuota extends OperationError {
  readonly kind = 'invalid';
  constructor(message: string) {
    super(message);
    this.name = 'UploadOverQuota';
  }
}

/** Uploads whose hash state one process keeps (the latest of each): enough for those it serves at once. */
const CACHED_HASHES = 64;

export class ResumableUploads {
  /** Per upload (its prefix), the SHA-256 state after the chain of pieces `chainId` names. */
  private readonly hashes = new Map<string, { chainId: string; hash: Hash }>();
  /** Uploads this process is making into their object: a request that brings the last piece again waits for it. */
  private readonly completing = new Map<string, Promise<void>>();

  constructor(
    private readonly blobs: BlobStore,
    private readonly records: LfsObjectRecords,
    private readonly options: ResumableUploadOptions,
  ) {}

  /** The bytes of the object the server holds: its size once stored, else the end of the pieces in order from 0. */
  async offset(repositoryId: string, content: LfsContent): Promise<number> {
    await this.completing.get(sessionPrefix(repositoryId, content))?.catch(() => {});
    if (await this.storedAndRecorded(repositoryId, content)) return content.size;
    const { session } = await this.pieces(repositoryId, content, false);
    return resumePoint(session, content.size);
  }

  /**
   * Takes `body`, the bytes of the object from `offset` on (at most the rest of it), into pieces;
   * makes the object once they are all in. Returns the offset reached. Rejects with
   * UploadOffsetConflict when the upload does not stand at `offset`; UploadOverQuota when the
   * rest would not fit in `roomBytes` beside the pieces of the repository's uploads under way;
   * LfsContentMismatch when the whole object is in and is not the oid (the pieces this request
   * hashed are then removed). A body that ends early keeps its whole pieces, and so does any
   * failure to make the object of them: the next request resumes after them.
   */
  async append(repositoryId: string, content: LfsContent, offset: number, body: Readable, roomBytes?: number): Promise<number> {
    const prefix = sessionPrefix(repositoryId, content);
    await this.completing.get(prefix)?.catch(() => {});
    if (await this.storedAndRecorded(repositoryId, content)) return content.size;
    const { session, underWayBytes } = await this.pieces(repositoryId, content, roomBytes !== undefined);
    const current = resumePoint(session, content.size);
    if (offset !== current) throw new UploadOffsetConflict(offset, current);
    if (roomBytes !== undefined && underWayBytes + (content.size - offset) > roomBytes) {
      throw new UploadOverQuota(
        `the rest of object ${content.oid} (${content.size - offset} bytes) does not fit: the storage quota leaves ${roomBytes} bytes, ` +
          `and uploads under way in this repository hold ${underWayBytes}`,
      );
    }
    const chain = session.filter((piece) => piece.offset < offset);
    let chainId = chainIdOf(chain);
    const hash = await this.hashOf(prefix, chain, chainId);
    const writer = new PieceWriter(this.blobs, prefix, content.size, this.options.pieceBytes, offset);
    try {
      for await (const chunk of body) {
        await writer.write(chunk as Buffer, hash, (piece) => {
          chain.push(piece);
          chainId = extendChainId(chainId, piece.key);
          this.remember(prefix, chainId, hash);
        });
      }
    } finally {
      await writer.end();
    }
    const reached = chainEnd(chain);
    if (reached !== content.size) return reached;
    const completion = this.complete(repositoryId, content, chain, hash.digest('hex'));
    this.completing.set(prefix, completion);
    try {
      await completion;
    } finally {
      if (this.completing.get(prefix) === completion) this.completing.delete(prefix);
    }
    return reached;
  }

  private async complete(repositoryId: string, content: LfsContent, chain: Piece[], digest: string): Promise<void> {
    const prefix = sessionPrefix(repositoryId, content);
    if (digest !== content.oid) {
      // Only the pieces this request hashed: another upload of the same object may be building on others.
      this.hashes.delete(prefix);
      for (const piece of chain) await this.blobs.delete(piece.key);
      throw new LfsContentMismatch(`the bytes sent have SHA-256 ${digest}, not the object's ${content.oid}; nothing was stored`);
    }
    const key = lfsBlobKey(repositoryId, content.oid);
    if (chain.length === 0) await this.blobs.putIfAbsent(key, Buffer.alloc(0));
    else await concatenateBlobs(this.blobs, key, chain);
    await this.records.recordStored(repositoryId, content.oid, content.size);
    this.hashes.delete(prefix);
    // The object is made: its pieces, and those of other tries, are of no more use. Those a failure
    // here leaves are collected by maintenance with abandoned uploads.
    try {
      for await (const piece of this.blobs.list(prefix)) await this.blobs.delete(piece.key);
    } catch {
      // Kept for maintenance.
    }
  }

  /**
   * Whether the object is stored, recorded too: a client that finds it stored (HEAD answers its
   * size) skips the verify step that would otherwise record it.
   */
  private async storedAndRecorded(repositoryId: string, content: LfsContent): Promise<boolean> {
    if ((await this.blobs.head(lfsBlobKey(repositoryId, content.oid)))?.size !== content.size) return false;
    await this.records.recordStored(repositoryId, content.oid, content.size);
    return true;
  }

  /**
   * The pieces of this upload that continue one another from byte 0, each of its expected size
   * (the first named at each offset); with `countUnderWay`, also the bytes in every upload of the
   * repository under way (which takes a listing of them all rather than of this upload's).
   */
  private async pieces(
    repositoryId: string,
    content: LfsContent,
    countUnderWay: boolean,
  ): Promise<{ session: Piece[]; underWayBytes: number }> {
    const prefix = sessionPrefix(repositoryId, content);
    const session: Piece[] = [];
    let underWayBytes = 0;
    let next = 0;
    for await (const blob of this.blobs.list(countUnderWay ? lfsUploadsBlobPrefix(repositoryId) : prefix)) {
      underWayBytes += blob.size;
      if (!blob.key.startsWith(prefix)) continue;
      const offset = pieceOffset(blob.key.slice(prefix.length));
      const expectedSize = Math.min(this.options.pieceBytes, content.size - next);
      if (offset === next && blob.size === expectedSize && expectedSize > 0) {
        session.push({ ...blob, offset });
        next += blob.size;
      }
    }
    return { session, underWayBytes };
  }

  /** The SHA-256 state after the bytes of `chain`: cached, or read back from the pieces (and cached). */
  private async hashOf(prefix: string, chain: readonly Piece[], chainId: string): Promise<Hash> {
    const cached = this.hashes.get(prefix);
    if (cached?.chainId === chainId) return cached.hash.copy();
    const hash = createHash('sha256');
    for (const piece of chain) {
      const stream = await this.blobs.getStream(piece.key);
      if (!stream) throw new Error(`resuming an LFS upload: piece ${piece.key} is no longer stored; start the upload again`);
      let read = 0;
      for await (const chunk of stream) {
        read += (chunk as Buffer).length;
        hash.update(chunk as Buffer);
      }
      if (read !== piece.size) throw new Error(`resuming an LFS upload: piece ${piece.key} holds ${read} bytes, not ${piece.size}`);
    }
    // A request that then fails before its first piece must not make the next one read them all again.
    this.remember(prefix, chainId, hash);
    return hash;
  }

  private remember(prefix: string, chainId: string, hash: Hash): void {
    this.hashes.delete(prefix);
    this.hashes.set(prefix, { chainId, hash: hash.copy() });
    // Oldest first in a Map's order: drop from the front.
    for (const stale of this.hashes.keys()) {
      if (this.hashes.size <= CACHED_HASHES) break;
      this.hashes.delete(stale);
    }
  }
}

interface Piece extends BlobInfo {
  offset: number;
}

/** Cuts a stream of bytes into pieces at the fixed boundaries and stores each one as it fills. */
class PieceWriter {
  private current:
    { key: string; stream: PassThrough; stored: Promise<boolean>; offset: number; size: number; written: number } | undefined;

  constructor(
    private readonly blobs: BlobStore,
    private readonly prefix: string,
    private readonly objectSize: number,
    private readonly pieceBytes: number,
    private position: number,
  ) {}

  /**
   * Writes `chunk`, hashing the bytes it takes; `stored` hears of each piece it completes once
   * the piece is stored, when `hash` has taken exactly the bytes up to the piece's end.
   */
  async write(chunk: Buffer, hash: Hash, stored: (piece: Piece) => void): Promise<void> {
    let rest = chunk;
    while (rest.length > 0) {
      if (this.position >= this.objectSize) throw new RangeError(`more than the object's ${this.objectSize} bytes were sent`);
      const piece = (this.current ??= this.open());
      const taken = rest.subarray(0, piece.size - piece.written);
      rest = rest.subarray(taken.length);
      hash.update(taken);
      piece.written += taken.length;
      this.position += taken.length;
      if (!piece.stream.write(taken)) await drained(piece.stream, piece.stored);
      if (piece.written === piece.size) {
        this.current = undefined;
        piece.stream.end();
        if (!(await piece.stored)) throw new Error(`piece ${piece.key} of an LFS upload was already written`);
        stored({ key: piece.key, size: piece.size, offset: piece.offset });
      }
    }
  }

  /** Drops the piece the body ended (or failed) in the middle of: only whole pieces are kept. */
  async end(): Promise<void> {
    const piece = this.current;
    if (!piece) return;
    this.current = undefined;
    piece.stream.destroy(new Error('the request body ended within this piece'));
    await piece.stored.catch(() => {});
  }

  private open() {
    const offset = this.position;
    const size = Math.min(this.pieceBytes, this.objectSize - offset);
    // A new name for every piece written: a key once read back is never rewritten.
    const key = `${this.prefix}${String(offset).padStart(16, '0')}-${randomBytes(8).toString('hex')}`;
    const stream = new PassThrough();
    const stored = this.blobs.putIfAbsent(key, { size, open: () => stream });
    // Awaited when the piece is full; a store that fails earlier must not leave it unhandled meanwhile.
    stored.catch(() => {});
    return { key, stream, stored, offset, size, written: 0 };
  }
}

/** Waits until `stream` takes more, or fails when the store stopped reading it. */
async function drained(stream: PassThrough, stored: Promise<boolean>): Promise<void> {
  const done = new AbortController();
  try {
    await Promise.race([
      once(stream, 'drain', { signal: done.signal }),
      stored.then(() => {
        throw new Error('the blob store stopped reading a piece before its end');
      }),
    ]);
  } finally {
    done.abort();
  }
}

function sessionPrefix(repositoryId: string, content: LfsContent): string {
  return `${lfsUploadsBlobPrefix(repositoryId)}${content.oid}-${content.size}/`;
}

function pieceOffset(name: string): number {
  const match = /^(\d{16})-[0-9a-f]{16}$/.exec(name);
  return match ? Number(match[1]) : -1;
}

/**
 * Where an upload of `size` bytes whose pieces are `chain` goes on: the end of the pieces; but when
 * every piece is in and the object was not made of them (the process stopped in between), the
 * start of the last one, so that the request bringing it again makes the object.
 */
function resumePoint(chain: readonly Piece[], size: number): number {
  const end = chainEnd(chain);
  return end === size && chain.length > 0 ? chain[chain.length - 1].offset : end;
}

function chainEnd(chain: readonly Piece[]): number {
  const last = chain[chain.length - 1];
  return last ? last.offset + last.size : 0;
}

/** Names a chain of pieces by its keys, in O(1) per piece added: a hash over the previous name and the key. */
function extendChainId(chainId: string, key: string): string {
  return createHash('sha256').update(chainId).update('\n').update(key).digest('hex');
}

function chainIdOf(chain: readonly Piece[]): string {
  return chain.reduce((id, piece) => extendChainId(id, piece.key), '');
}
