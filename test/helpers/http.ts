import { request, type ClientRequest } from 'node:http';
import { adminHeaders } from '@gitfleet/test-support/server';

export interface RawResponse {
  /** 0 when the server closed the connection before answering (see `resetBeforeAnswer`). */
  status: number;
  /** Set when the server cut the connection while the body was still being sent. */
  resetBeforeAnswer?: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * An HTTP request with the path sent exactly as given: unlike fetch(), no `..` or
 * percent-encoding is normalised away, which is what hostile-path tests need.
 * Made as TEST_ADMIN unless `anonymous`.
 */
export function rawRequest(
  baseUrl: string,
  method: string,
  path: string,
  { headers: given = {}, body, anonymous = false }: { headers?: Record<string, string>; body?: Buffer; anonymous?: boolean } = {},
): Promise<RawResponse> {
  const base = new URL(baseUrl);
  const headers = anonymous ? given : adminHeaders(given);
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(
      {
        hostname: base.hostname,
        port: base.port,
        method,
        path,
        headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) },
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        const done = () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', done);
        // A server may answer early (413) and close before reading the whole body.
        res.on('aborted', done);
        res.on('error', done);
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${path}: no response within 60 s`)));
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (answered) return;
      if (error.code === 'EPIPE' || error.code === 'ECONNRESET') {
        resolve({ status: 0, resetBeforeAnswer: error.code, headers: {}, body: Buffer.alloc(0) });
      } else {
        reject(new Error(`${method} ${path}: ${error.message}`));
      }
    });
    void writeUntilAnswered(req, body, () => answered);
  });
}

/**
 * Writes the body in chunks and stops once the server has answered: a server refusing a
 * request early (413) must not have its answer lost to the rest of the upload.
 */
async function writeUntilAnswered(req: ClientRequest, body: Buffer | undefined, answered: () => boolean): Promise<void> {
  const CHUNK = 64 * 1024;
  for (let at = 0; body && at < body.length && !answered() && !req.destroyed; at += CHUNK) {
    if (!req.write(body.subarray(at, at + CHUNK))) await new Promise((drained) => req.once('drain', drained).once('close', drained));
  }
  if (!req.destroyed) req.end();
}

/** POST to a smart-HTTP service of a repository URL (…/owner/name.git). */
export function postService(
  repoUrl: string,
  service: 'git-upload-pack' | 'git-receive-pack',
  body: Buffer,
  extraHeaders: Record<string, string> = {},
): Promise<RawResponse> {
  const url = new URL(`${repoUrl}/${service}`);
  return rawRequest(url.origin, 'POST', url.pathname, {
    headers: { 'content-type': `application/x-${service}-request`, accept: `application/x-${service}-result`, ...extraHeaders },
    body,
  });
}
