import { request } from 'node:http';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * An HTTP request with the path sent exactly as given: unlike fetch(), no `..` or
 * percent-encoding is normalised away, which is what hostile-path tests need.
 */
export function rawRequest(
  baseUrl: string,
  method: string,
  path: string,
  { headers = {}, body }: { headers?: Record<string, string>; body?: Buffer } = {},
): Promise<RawResponse> {
  const base = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      { hostname: base.hostname, port: base.port, method, path, headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${path}: no response within 60 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** POST to a smart-HTTP service of a repository URL (…/owner/name.git). */
export function postService(repoUrl: string, service: 'git-upload-pack' | 'git-receive-pack', body: Buffer, extraHeaders: Record<string, string> = {}): Promise<RawResponse> {
  const url = new URL(`${repoUrl}/${service}`);
  return rawRequest(url.origin, 'POST', url.pathname, {
    headers: { 'content-type': `application/x-${service}-request`, accept: `application/x-${service}-result`, ...extraHeaders },
    body,
  });
}
