import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Readable, pipeline } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCopyCommand,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { BlobBody, BlobInfo, BlobStore, ByteRange } from '../blob-store.js';
import type { BlobAges } from '../blob-ages.js';
import type { BlobConcatenation } from '../blob-concatenation.js';
import type { DirectReadUrls } from '../direct-read-urls.js';
import type { DirectWrite, DirectWriteContent, DirectWriteOutcome, DirectWriteUrls } from '../direct-write-urls.js';
import { mapConcurrently } from '../map-concurrently.js';
import { validateBlobKey, validateBlobPrefix, validateByteRange } from '../validation.js';
import { isConditionalConflict, isNotFound, isPreconditionFailed, isRangeNotSatisfiable, s3Error } from './s3-errors.js';
import { checkDeclaredSize } from './size-check.js';

export interface S3BlobStoreOptions {
  bucket: string;
  /** Region for request signing; S3-compatible stores mostly accept any (e.g. 'us-east-1'). */
  region: string;
  /** e.g. 'http://127.0.0.1:7480'; omit for AWS S3. */
  endpoint?: string;
  /**
   * Prepended to every key, so several stores (or other data) can share a bucket.
   * Usually ends with '/'. Keys in list results are reported without it.
   */
  prefix?: string;
  /** Omit to use the SDK's default chain (environment, profile, instance role…). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Attempts per request, the first included, with exponential backoff on 5xx, throttling and timeouts. Default 5. */
  maxAttempts?: number;
  /**
   * Milliseconds a socket may stay idle (no bytes either way) before the request fails and
   * is retried: what bounds a call to a store that stops answering. Also applies while a
   * reader of getStream() holds back (backpressure), so it must exceed the longest stall of
   * the slowest consumer. Default 120 000.
   */
  idleTimeoutMs?: number;
  /**
   * Milliseconds a request without a body to move (HEAD, DELETE, a page of LIST, the steps of
   * a multipart upload) may take in all, its retries included. Default 30 000.
   */
  bodilessDeadlineMs?: number;
  /** Milliseconds to establish a connection. Default 5 000. */
  connectionTimeoutMs?: number;
  /** Concurrent connections to the endpoint. Default 64. */
  maxSockets?: number;
  /**
   * Streamed bodies larger than this go up as a multipart upload in parts of this size
   * (at least 5 MiB); each in-flight part is buffered in memory. Default 8 MiB.
   */
  partSize?: number;
  /** Parts of one multipart upload in flight at once. Default 4. */
  partConcurrency?: number;
  /** Keys per ListObjectsV2 page (at most 1000, the default). */
  listPageSize?: number;
}

// The SDK warns on every start under Node 20 that its releases after January 2027 need
// Node 22. This project pins an SDK release that supports Node 20 (see README.md), so the
// warning says nothing actionable; an operator can still turn it back on with 'false'.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const MIN_PART_SIZE = 5 * 1024 * 1024;
const PAYLOAD_HASH_HEADER = 'x-amz-content-sha256';
const CHECKSUM_HEADER = 'x-amz-checksum-sha256';
/** AWS S3 answers 409 to a conditional write racing another one on the same key: retry. */
const CONDITIONAL_CONFLICT_RETRIES = 5;

/**
 * Blobs as objects of an S3 bucket (AWS S3 or an S3-compatible store: Ceph radosgw, MinIO…).
 *
 * putIfAbsent is one conditional write (`If-None-Match: *`), which the store evaluates
 * atomically, so concurrent writers of one key cannot both win. Streamed bodies go through
 * lib-storage's Upload: at most partSize × (partConcurrency + 1) bytes sit in memory; one
 * part or less becomes a single conditional PutObject, more a multipart upload whose
 * CompleteMultipartUpload carries the same condition. A store that ignores the condition on
 * CompleteMultipartUpload (Ceph before Squid) lets two racing multipart writers of one key
 * both report true, the last one's bytes staying: harmless for content-addressed keys
 * (every writer of pack-<sha> writes the same bytes), and narrowed by a HEAD before the
 * upload starts.
 */
export class S3BlobStore implements BlobStore, DirectReadUrls, DirectWriteUrls, BlobAges, BlobConcatenation {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly partSize: number;
  private readonly partConcurrency: number;
  private readonly listPageSize: number | undefined;
  private readonly bodilessDeadlineMs: number;
  private closed = false;

  constructor(options: S3BlobStoreOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? '';
    if (this.prefix !== '') validateBlobPrefix(this.prefix);
    this.partSize = Math.max(MIN_PART_SIZE, options.partSize ?? 8 * 1024 * 1024);
    this.partConcurrency = options.partConcurrency ?? 4;
    this.listPageSize = options.listPageSize;
    this.bodilessDeadlineMs = options.bodilessDeadlineMs ?? 30_000;
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 64 };
    this.client = new S3Client({
      region: options.region,
      endpoint: options.endpoint,
      credentials: options.credentials,
      // Path-style (http://host/bucket/key): S3-compatible stores rarely have wildcard DNS.
      forcePathStyle: true,
      // With the SDK's default streaming checksums (aws-chunked bodies) Ceph answers 411,
      // and some stores keep the chunk framing as data.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: options.maxAttempts ?? 5,
      retryMode: 'standard',
      requestHandler: {
        // The handler's requestTimeout only warns; socketTimeout is the one that fails a request.
        socketTimeout: options.idleTimeoutMs ?? 120_000,
        connectionTimeout: options.connectionTimeoutMs ?? 5_000,
        httpAgent: new HttpAgent(agentOptions),
        httpsAgent: new HttpsAgent(agentOptions),
      },
    });
  }

  async putIfAbsent(key: string, body: BlobBody): Promise<boolean> {
    validateBlobKey(key);
    for (let attempt = 1; ; attempt++) {
      try {
        if (Buffer.isBuffer(body)) await this.putBuffer(key, body);
        else {
          // A multipart upload costs several requests and parts in memory; skip it when
          // the blob is plainly there already.
          if (body.size > this.partSize && (await this.head(key))) return false;
          await this.upload(key, body);
        }
        return true;
      } catch (error) {
        if (isPreconditionFailed(error)) return false;
        if (isConditionalConflict(error) && attempt < CONDITIONAL_CONFLICT_RETRIES) continue;
        throw s3Error(`put of blob ${key}`, error);
      }
    }
  }

  async get(key: string, range?: ByteRange): Promise<Buffer | undefined> {
    const response = await this.getObject(key, range);
    if (!response) return undefined;
    if (!('$metadata' in response)) return Buffer.alloc(0);
    let bytes: Uint8Array;
    try {
      bytes = await response.Body!.transformToByteArray();
    } catch (error) {
      // The connection was cut mid-body (the SDK retries only until the answer starts): Node says just "aborted".
      throw s3Error(`read of the body of blob ${key}${range ? ` [${range.start}, ${range.end})` : ''}`, error);
    }
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  async getStream(key: string, range?: ByteRange): Promise<Readable | undefined> {
    const response = await this.getObject(key, range);
    if (!response) return undefined;
    if (!('$metadata' in response)) return Readable.from([]);
    return response.Body as Readable;
  }

  async head(key: string): Promise<BlobInfo | undefined> {
    validateBlobKey(key);
    try {
      const response = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }), this.bodiless());
      return { key, size: response.ContentLength ?? 0 };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw s3Error(`head of blob ${key}`, error);
    }
  }

  /** The object's Last-Modified: when its upload completed. */
  async writtenAt(key: string): Promise<number | undefined> {
    validateBlobKey(key);
    try {
      const response = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }), this.bodiless());
      if (!response.LastModified) throw new Error('the store gave no Last-Modified');
      return response.LastModified.getTime();
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw s3Error(`write time of blob ${key}`, error);
    }
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    validateBlobPrefix(prefix);
    let continuationToken: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.prefix + prefix,
            ContinuationToken: continuationToken,
            MaxKeys: this.listPageSize,
          }),
          this.bodiless(),
        );
      } catch (error) {
        throw s3Error(`listing of blobs under ${JSON.stringify(prefix)}`, error);
      }
      for (const object of page.Contents ?? []) {
        yield { key: object.Key!.slice(this.prefix.length), size: object.Size ?? 0 };
      }
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken);
  }

  async delete(key: string): Promise<void> {
    validateBlobKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }), this.bodiless());
    } catch (error) {
      if (isNotFound(error)) return;
      throw s3Error(`delete of blob ${key}`, error);
    }
  }

  /**
   * A presigned GetObject URL (SigV4 query parameters, at most 7 days). The blob is looked up
   * first, so that no one is handed a URL that can only answer 404.
   */
  async directReadUrl(key: string, { expiresInSeconds }: { expiresInSeconds: number }): Promise<string | undefined> {
    if (!(await this.head(key))) return undefined;
    try {
      return await getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }), {
        expiresIn: expiresInSeconds,
      });
    } catch (error) {
      throw s3Error(`presigning a read of blob ${key}`, error);
    }
  }

  /**
   * A presigned PutObject bound to the body: its Content-Length, its SHA-256 as the signed
   * payload hash (`x-amz-content-sha256`, hex) and as an additional checksum
   * (`x-amz-checksum-sha256`, base64). The headers stay headers (not query parameters), so the
   * client must send them as signed. The payload hash is what radosgw checks (measured on Ceph
   * 16.2: a body of another hash is refused with 400 XAmzContentSHA256Mismatch, a request without
   * the header with 403); it ignores x-amz-checksum-sha256, which AWS S3 checks and stores.
   */
  async directWriteUrl(key: string, content: DirectWriteContent, { expiresInSeconds }: { expiresInSeconds: number }): Promise<DirectWrite> {
    validateBlobKey(key);
    const payloadHash = content.sha256.toLowerCase();
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: this.objectKey(key),
      ContentLength: content.size,
      ChecksumSHA256: Buffer.from(payloadHash, 'hex').toString('base64'),
    });
    command.middlewareStack.add(
      (next) => async (args) => {
        (args.request as { headers: Record<string, string> }).headers[PAYLOAD_HASH_HEADER] = payloadHash;
        return next(args);
      },
      { step: 'build', name: 'gitfleetSignedPayloadHash' },
    );
    const unhoisted = [PAYLOAD_HASH_HEADER, CHECKSUM_HEADER];
    let url: string;
    try {
      url = await getSignedUrl(this.client, command, {
        expiresIn: expiresInSeconds,
        signableHeaders: new Set(['content-length', ...unhoisted]),
        unhoistableHeaders: new Set(unhoisted),
      });
    } catch (error) {
      throw s3Error(`presigning a write of blob ${key}`, error);
    }
    return { method: 'PUT', url, headers: { [PAYLOAD_HASH_HEADER]: payloadHash, [CHECKSUM_HEADER]: command.input.ChecksumSHA256! } };
  }

  /** A HEAD of the written object: its size, and its SHA-256 where the store keeps one (AWS S3 does, radosgw 16.2 does not). */
  async completeDirectWrite(key: string, content: DirectWriteContent): Promise<DirectWriteOutcome> {
    validateBlobKey(key);
    let response;
    try {
      response = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key), ChecksumMode: 'ENABLED' }),
        this.bodiless(),
      );
    } catch (error) {
      if (isNotFound(error)) return 'missing';
      throw s3Error(`head of blob ${key}`, error);
    }
    const expectedChecksum = Buffer.from(content.sha256, 'hex').toString('base64');
    if (response.ChecksumSHA256 !== undefined && response.ChecksumSHA256 !== expectedChecksum) {
      await this.delete(key);
      return 'mismatch';
    }
    // Another size with the right bytes means the caller's size is wrong, not the blob: it stays.
    return response.ContentLength === content.size ? 'stored' : 'mismatch';
  }

  /**
   * A multipart upload whose parts the bucket copies from the given blobs (UploadPartCopy), a few
   * at a time: no byte passes through this process. Each part's size is checked by a HEAD before
   * its copy; CompleteMultipartUpload carries `If-None-Match: *`, narrowed by a HEAD as putIfAbsent.
   */
  async concatenateIfAbsent(key: string, parts: readonly BlobInfo[]): Promise<boolean> {
    validateBlobKey(key);
    for (const part of parts) validateBlobKey(part.key);
    if (await this.head(key)) return false;
    const target = { Bucket: this.bucket, Key: this.objectKey(key) };
    let uploadId: string | undefined;
    try {
      uploadId = (await this.client.send(new CreateMultipartUploadCommand(target), this.bodiless())).UploadId;
      const copied = await mapConcurrently(parts, this.partConcurrency, async (part, index) => {
        const source = await this.head(part.key);
        if (source?.size !== part.size) {
          throw new Error(`part ${part.key} is ${source ? `${source.size} bytes, not ${part.size}` : 'not stored'}`);
        }
        const answer = await this.client.send(
          new UploadPartCopyCommand({
            ...target,
            UploadId: uploadId,
            PartNumber: index + 1,
            CopySource: `${this.bucket}/${this.objectKey(part.key)}`,
          }),
        );
        return { PartNumber: index + 1, ETag: answer.CopyPartResult?.ETag };
      });
      await this.client.send(
        new CompleteMultipartUploadCommand({ ...target, UploadId: uploadId, MultipartUpload: { Parts: copied }, IfNoneMatch: '*' }),
      );
      return true;
    } catch (error) {
      if (uploadId)
        await this.client.send(new AbortMultipartUploadCommand({ ...target, UploadId: uploadId }), this.bodiless()).catch(() => {});
      if (isPreconditionFailed(error)) return false;
      throw s3Error(`concatenation of ${parts.length} blobs into ${key}`, error);
    }
  }

  /** Send options of a request without a body to move: its deadline, retries included. */
  private bodiless(): { abortSignal: AbortSignal } {
    return { abortSignal: AbortSignal.timeout(this.bodilessDeadlineMs) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client.destroy();
  }

  private objectKey(key: string): string {
    return this.prefix + key;
  }

  private async putBuffer(key: string, body: Buffer): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: this.objectKey(key),
        Body: body,
        ContentLength: body.length,
        IfNoneMatch: '*',
      }),
    );
  }

  private async upload(key: string, body: Exclude<BlobBody, Buffer>): Promise<void> {
    const checked = checkDeclaredSize(key, body.size);
    // pipeline, not pipe: a failing source must fail `checked`, which the upload reads.
    pipeline(body.open(), checked, () => {});
    const upload = new Upload({
      client: this.client,
      partSize: this.partSize,
      queueSize: this.partConcurrency,
      // Parts are Buffers cut from the stream, so the SDK can retry each request on its own.
      params: {
        Bucket: this.bucket,
        Key: this.objectKey(key),
        Body: checked,
        ContentLength: body.size,
        // Goes on the single PutObject or on CompleteMultipartUpload.
        IfNoneMatch: '*',
      },
    });
    try {
      await upload.done();
    } finally {
      // An upload refused early (412) stops reading: release the source (a spool file).
      checked.destroy();
    }
  }

  /**
   * The GetObject response for `key` (or a range of it); undefined when the blob is absent;
   * `{ empty: true }` when the blob exists but the range holds no byte of it (HTTP cannot
   * ask for zero bytes, and a range past the end is answered 416).
   */
  private async getObject(key: string, range?: ByteRange): Promise<GetObjectCommandOutput | { empty: true } | undefined> {
    validateBlobKey(key);
    if (range) validateByteRange(key, range);
    if (range && range.start === range.end) return (await this.head(key)) ? { empty: true } : undefined;
    try {
      return await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.objectKey(key),
          Range: range ? `bytes=${range.start}-${range.end - 1}` : undefined,
        }),
      );
    } catch (error) {
      if (isNotFound(error)) return undefined;
      if (isRangeNotSatisfiable(error)) return { empty: true };
      throw s3Error(`read of blob ${key}${range ? ` [${range.start}, ${range.end})` : ''}`, error);
    }
  }
}
