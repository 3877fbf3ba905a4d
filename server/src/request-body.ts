import type { IncomingMessage } from 'node:http';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { HttpError } from './http-errors.js';
import { onBodyTooSlow } from './limits/slow-body.js';

/**
 * A request body as a stream, inflated when gzip-encoded and cut off at `maxBytes` of
 * (inflated) content, so that neither a large upload nor a decompression bomb can grow
 * beyond the limit. Nothing is buffered beyond the streams' own high-water marks.
 */
export interface RequestBody {
  stream: Readable;
  /**
   * Why the body stream failed, as the HTTP answer to give, when the failure lies in the
   * transport (limit, bad gzip, client gone) rather than in the git request itself.
   */
  failure(): HttpError | undefined;
  /** Bytes of content read so far (inflated when gzip-encoded). */
  bytesRead(): number;
}

/** The media type a request's Content-Type names, lower-cased and without parameters; '' when it has none. */
export function requestMediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

/** Throws HttpError (413, 415) for bodies refused from their headers alone. */
export function openRequestBody(req: IncomingMessage, maxBytes: number): RequestBody {
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  const gzipped = encoding === 'gzip' || encoding === 'x-gzip';
  if (!gzipped && encoding !== 'identity') {
    throw new HttpError(415, `unsupported Content-Encoding "${encoding}" (gzip or none)`);
  }
  const declaredLength = Number(req.headers['content-length']);
  if (!gzipped && declaredLength > maxBytes) {
    throw new HttpError(413, `request body of ${declaredLength} bytes exceeds the limit of ${maxBytes} bytes`);
  }

  // A client gone during the awaits before this call has already had its 'close': the listener
  // below would never fire, and the body would neither end nor fail.
  if (req.destroyed && !req.complete) {
    throw new HttpError(400, 'client closed the connection before sending the whole request');
  }

  let failure: HttpError | undefined;
  const fail = (error: HttpError) => {
    failure ??= error;
    // Stop reading but leave the socket open: the client must still get the answer.
    req.unpipe();
    req.pause();
    gunzip?.destroy();
    if (!limiter.destroyed) limiter.destroy(failure);
  };
  const limiter = new ByteLimit(maxBytes, () =>
    fail(new HttpError(413, `request body exceeds the limit of ${maxBytes} bytes${gzipped ? ' once inflated' : ''}`)),
  );
  const gunzip = gzipped ? createGunzip() : undefined;
  gunzip?.once('error', (error) => fail(new HttpError(400, `request body is not valid gzip: ${error.message}`)));
  req.once('error', () => fail(new HttpError(400, 'the request body could not be read')));
  onBodyTooSlow(req, fail);
  req.once('close', () => {
    if (!req.complete) fail(new HttpError(400, 'client closed the connection before sending the whole request'));
  });
  // Not stream.pipeline: it would destroy `req` on a failure, and with it the socket the
  // 413/400 answer has to go out on.
  if (gunzip) req.pipe(gunzip).pipe(limiter);
  else req.pipe(limiter);
  return { stream: limiter, failure: () => failure, bytesRead: () => limiter.seen };
}

class ByteLimit extends Transform {
  seen = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly onExceeded: () => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.maxBytes) {
      this.onExceeded();
      callback();
    } else {
      callback(null, chunk);
    }
  }
}
