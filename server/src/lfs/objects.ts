import { createHash } from 'node:crypto';
import { Transform, pipeline, type Readable, type TransformCallback } from 'node:stream';
import {
  hasDirectReadUrls,
  hasDirectWriteUrls,
  type BlobStore,
  type ByteRange,
  type DirectWriteContent,
  type DirectWriteOutcome,
  mapConcurrently,
} from '@gitfleet/storage';
import { lfsBlobKey, type LfsObjectRecords } from '@gitfleet/repository';
import { OperationError } from '../operations/errors.js';
import type { StorageRoom } from '../operations/storage-quotas.js';
import type { BatchRequest, LfsObjectSpec } from './batch-request.js';

/**
 * Git LFS objects: where they live, what a batch request is answered, and the checks an upload
 * passes before an object counts as stored. The HTTP routes (and later the REST API and web UI)
 * are thin surfaces over this module.
 *
 * Objects are stored per repository, content-addressed by SHA-256 within it:
 *
 *   `lfs/repos/<repository id>/<oid[0:2]>/<oid[2:4]>/<oid>`
 *
 * Per repository rather than per owner, because with one store per owner the batch answer to an
 * upload ("already stored, nothing to send") would tell anyone with write access to one
 * repository whether a file of a given hash exists in the owner's other, perhaps private,
 * repositories; and because deleting a repository, its permissions and its usage then all
 * follow one prefix. Forks pay with a second copy. The random repository id keeps objects in
 * place across renames and transfers. Each stored object is recorded with its size in the
 * repository's KV scope (LfsObjectRecords), which the owner's storage quota sums.
 *
 * A key only ever holds the bytes its oid names: the server hashes what it streams in and stores
 * nothing that does not match, and a direct upload URL is bound by the object store to the
 * object's size and SHA-256 (see DirectWriteUrls). So an object counts as stored when its key
 * exists with the announced size; nothing else (no KV record) has to agree with the blob store.
 */

/** An object as a client names it: its SHA-256 and its size in bytes. */
export interface LfsContent {
  oid: string;
  size: number;
}

/** One action of a batch answer: where to send the request, with which headers, for how long. */
export interface LfsAction {
  href: string;
  header?: Record<string, string>;
  expires_in: number;
}

export interface LfsObjectAnswer {
  oid: string;
  size: number;
  authenticated?: boolean;
  actions?: { download?: LfsAction } | { upload: LfsAction; verify: LfsAction };
  error?: { code: number; message: string };
}

export interface BatchAnswer {
  /** `tus`: uploads resume where they broke off (ResumableUploads), through the server's own URLs. */
  transfer: 'basic' | 'tus';
  objects: LfsObjectAnswer[];
  hash_algo: 'sha256';
}

/** The server's own transfer URLs of one repository (signed, so that each is its own authorization). */
export interface ServerLinks {
  download(oid: string, size: number): Promise<string>;
  upload(oid: string, size: number): Promise<string>;
  verify(oid: string, size: number): Promise<string>;
}

export interface LfsObjectsOptions {
  /** Whether clients move bytes straight to and from the object store when it can make URLs for that. */
  direct: boolean;
  maxObjectBytes: number;
  actionExpirySeconds: number;
  /** From this size an upload goes by the resumable transfer when the client offers it, even where it could go direct. */
  resumableMinBytes: number;
}

/** An upload whose bytes are not the object it names (another length or another SHA-256). */
export class LfsContentMismatch extends OperationError {
  readonly kind = 'invalid';
  constructor(message: string) {
    super(message);
    this.name = 'LfsContentMismatch';
  }
}

/** An object a download or a verification asked for that is not stored. */
export class LfsObjectNotFound extends OperationError {
  readonly kind = 'not-found';
  constructor(oid: string) {
    super(`object ${oid} is not stored`);
    this.name = 'LfsObjectNotFound';
  }
}

/** How many objects of one batch are looked up in the blob store at once. */
const LOOKUP_CONCURRENCY = 16;

export class LfsObjects {
  constructor(
    private readonly blobs: BlobStore,
    private readonly records: LfsObjectRecords,
    private readonly options: LfsObjectsOptions,
  ) {}

  /**
   * The answer to a batch request for the repository `repositoryId`, every object with its
   * actions or its own error. `room`: what the owner's storage quota leaves for uploads; the
   * objects to upload that do not fit, in the request's order, get the spec's 507 instead.
   */
  async batch(repositoryId: string, request: BatchRequest, links: ServerLinks, room?: StorageRoom): Promise<BatchAnswer> {
    const transfer = this.transferFor(request);
    const plan =
      request.operation === 'download'
        ? (object: LfsContent) => this.planDownload(repositoryId, object, links)
        : (object: LfsContent) => this.planUpload(repositoryId, object, links, transfer);
    const objects = await mapConcurrently(request.objects, LOOKUP_CONCURRENCY, async (spec) => {
      const invalid = invalidObject(spec, this.options.maxObjectBytes, request.operation);
      if (invalid) return invalid;
      return plan({ oid: spec.oid as string, size: spec.size as number });
    });
    return { transfer, objects: room ? withinRoom(objects, room) : objects, hash_algo: 'sha256' };
  }

  /**
   * The resumable transfer when the client offers it for an upload the server streams anyway, or
   * for one large enough to be worth the server's bandwidth where it could go direct; else basic.
   */
  private transferFor(request: BatchRequest): BatchAnswer['transfer'] {
    if (request.operation !== 'upload' || !request.transfers.includes('tus')) return 'basic';
    if (!request.transfers.includes('basic') || !this.uploadsGoDirect()) return 'tus';
    const large = request.objects.some((spec) => typeof spec.size === 'number' && spec.size >= this.options.resumableMinBytes);
    return large ? 'tus' : 'basic';
  }

  private uploadsGoDirect(): boolean {
    return this.options.direct && hasDirectWriteUrls(this.blobs);
  }

  /**
   * Whether an upload reached the store intact. A direct upload is checked by the store (and, on
   * a placement, copied to its other replicas now); one the server took was checked as it streamed.
   */
  async verify(repositoryId: string, content: LfsContent): Promise<DirectWriteOutcome> {
    const key = lfsBlobKey(repositoryId, content.oid);
    const direct: DirectWriteContent = { size: content.size, sha256: content.oid };
    let outcome: DirectWriteOutcome | undefined;
    if (this.options.direct && hasDirectWriteUrls(this.blobs)) outcome = await this.blobs.completeDirectWrite(key, direct);
    if (outcome === undefined || outcome === 'missing') {
      const info = await this.blobs.head(key);
      outcome = !info ? 'missing' : info.size === content.size ? 'stored' : 'mismatch';
    }
    if (outcome === 'stored') await this.records.recordStored(repositoryId, content.oid, content.size);
    return outcome;
  }

  /**
   * Stores an object streamed by the client, hashing it on the way: a body of another length or
   * SHA-256 rejects with LfsContentMismatch and leaves nothing stored. No spool file or temporary
   * key is needed for that: the check fails the stream before it ends, and a blob store publishes
   * a blob only once its stream ended well (the file store links its temporary file into place
   * after the last byte, S3 completes no upload whose body failed). False when already stored.
   */
  async receive(repositoryId: string, content: LfsContent, body: Readable): Promise<boolean> {
    const key = lfsBlobKey(repositoryId, content.oid);
    const check = new ContentCheck(content.oid, content.size);
    let opened = false;
    try {
      const stored = await this.blobs.putIfAbsent(key, {
        size: content.size,
        open: () => {
          // The request body can be read once only; a store that asks again (a retry) fails the upload.
          if (opened) throw new Error(`upload of LFS object ${content.oid}: the request body was already read`);
          opened = true;
          pipeline(body, check, () => {});
          return check;
        },
      });
      await this.records.recordStored(repositoryId, content.oid, content.size);
      return stored;
    } catch (error) {
      throw check.mismatch ?? error;
    }
  }

  /** The stored object's size; LfsObjectNotFound when absent. */
  async size(repositoryId: string, oid: string): Promise<number> {
    const info = await this.blobs.head(lfsBlobKey(repositoryId, oid));
    if (!info) throw new LfsObjectNotFound(oid);
    return info.size;
  }

  /** A URL to GET the object straight from the object store, when direct transfers are on and the store makes such URLs. */
  async directDownloadUrl(repositoryId: string, oid: string): Promise<string | undefined> {
    if (!this.options.direct || !hasDirectReadUrls(this.blobs)) return undefined;
    return this.blobs.directReadUrl(lfsBlobKey(repositoryId, oid), { expiresInSeconds: this.options.actionExpirySeconds });
  }

  /** A stream of `range` of the stored object; LfsObjectNotFound when absent. */
  async open(repositoryId: string, oid: string, range: ByteRange): Promise<Readable> {
    const stream = await this.blobs.getStream(lfsBlobKey(repositoryId, oid), range);
    if (!stream) throw new LfsObjectNotFound(oid);
    return stream;
  }

  private async planDownload(repositoryId: string, object: LfsContent, links: ServerLinks): Promise<LfsObjectAnswer> {
    const key = lfsBlobKey(repositoryId, object.oid);
    const info = await this.blobs.head(key);
    if (!info) return objectError(object, 404, `object ${object.oid} is not stored in this repository`);
    if (info.size !== object.size) {
      return objectError(object, 422, `object ${object.oid} is ${info.size} bytes, not ${object.size}: the pointer's size is wrong`);
    }
    const expires_in = this.options.actionExpirySeconds;
    const href = (await this.directDownloadUrl(repositoryId, object.oid)) ?? (await links.download(object.oid, object.size));
    return { ...object, authenticated: true, actions: { download: { href, expires_in } } };
  }

  private async planUpload(
    repositoryId: string,
    object: LfsContent,
    links: ServerLinks,
    transfer: BatchAnswer['transfer'],
  ): Promise<LfsObjectAnswer> {
    const key = lfsBlobKey(repositoryId, object.oid);
    const info = await this.blobs.head(key);
    // Already stored: the spec's answer is an object without actions, and the client sends nothing,
    // then pushes pointers to it; maintenance must not collect it in between (collectLfsObjects).
    if (info?.size === object.size) {
      if (await this.records.keepForUpload(repositoryId, object.oid)) return { ...object, authenticated: true };
      return objectError(object, 409, `object ${object.oid} is being deleted as no pointer references it; retry the upload shortly`);
    }
    if (info) return objectError(object, 422, `object ${object.oid} is stored with ${info.size} bytes, not ${object.size}`);
    const expires_in = this.options.actionExpirySeconds;
    const content: DirectWriteContent = { size: object.size, sha256: object.oid };
    const direct =
      transfer === 'basic' && this.options.direct && hasDirectWriteUrls(this.blobs)
        ? await this.blobs.directWriteUrl(key, content, { expiresInSeconds: expires_in })
        : undefined;
    const upload: LfsAction = direct
      ? { href: direct.url, header: direct.headers, expires_in }
      : { href: await links.upload(object.oid, object.size), expires_in };
    return {
      ...object,
      authenticated: true,
      actions: { upload, verify: { href: await links.verify(object.oid, object.size), expires_in } },
    };
  }
}

/** The uploads that fit in `room`, in order; the others refused with 507 and the quota's reason. */
function withinRoom(objects: LfsObjectAnswer[], room: StorageRoom): LfsObjectAnswer[] {
  let left = room.bytes;
  return objects.map((object) => {
    if (!object.actions || !('upload' in object.actions)) return object;
    if (object.size <= left) {
      left -= object.size;
      return object;
    }
    return objectError(object, 507, `object ${object.oid} (${object.size} bytes) does not fit: ${room.reason}`);
  });
}

export const OID_PATTERN = /^[0-9a-f]{64}$/;

/** The per-object error of an object the batch cannot take as it is; undefined for a valid one. */
function invalidObject(spec: LfsObjectSpec, maxObjectBytes: number, operation: BatchRequest['operation']): LfsObjectAnswer | undefined {
  const { oid, size } = spec;
  const echo = { oid: typeof oid === 'string' ? oid : String(oid), size: typeof size === 'number' ? size : -1 };
  if (typeof oid !== 'string' || !OID_PATTERN.test(oid)) {
    return objectError(echo, 422, `invalid oid ${JSON.stringify(oid)}: expected a SHA-256 in 64 lower-case hex digits`);
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    return objectError(echo, 422, `invalid size ${JSON.stringify(size)} of object ${oid}: expected a non-negative integer`);
  }
  if (operation === 'upload' && size > maxObjectBytes) {
    return objectError(echo, 413, `object ${oid} is ${size} bytes, over this server's limit of ${maxObjectBytes} bytes per object`);
  }
  return undefined;
}

function objectError(object: LfsContent, code: number, message: string): LfsObjectAnswer {
  return { oid: object.oid, size: object.size, error: { code, message } };
}

/** Passes the bytes on while hashing and counting them; fails the stream when they are not the announced object. */
class ContentCheck extends Transform {
  mismatch: LfsContentMismatch | undefined;
  private readonly hash = createHash('sha256');
  private seen = 0;

  constructor(
    private readonly oid: string,
    private readonly size: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.size) {
      callback(this.refuse(`more than the announced ${this.size} bytes were sent for object ${this.oid}`));
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.seen !== this.size) {
      callback(this.refuse(`${this.seen} bytes were sent for object ${this.oid}, which is ${this.size} bytes`));
      return;
    }
    const digest = this.hash.digest('hex');
    if (digest !== this.oid) {
      callback(this.refuse(`the bytes sent have SHA-256 ${digest}, not the object's ${this.oid}; nothing was stored`));
      return;
    }
    callback();
  }

  private refuse(message: string): LfsContentMismatch {
    this.mismatch = new LfsContentMismatch(message);
    return this.mismatch;
  }
}
