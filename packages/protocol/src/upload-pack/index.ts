import type { Readable } from 'node:stream';
import type { Repository } from '@gitfleet/repository';
import type { ProtocolLimits, ProtocolVersion } from '../options.js';
import { RequestLines } from './request.js';
import { uploadPackV0 } from './v0.js';
import { uploadPackV2 } from './v2.js';

export { advertiseUploadPack } from './advertise.js';

export interface UploadPackOptions {
  version: ProtocolVersion;
  limits: ProtocolLimits;
}

/**
 * Serves one stateless-RPC upload-pack request. Resolves once the request has been read
 * and validated (rejects with ProtocolError otherwise, before any output) to the
 * response, which is streamed with bounded memory.
 */
export async function uploadPack(repo: Repository, request: Readable, options: UploadPackOptions): Promise<AsyncIterable<Buffer>> {
  const lines = new RequestLines(request, { maxBytes: options.limits.maxRequestBytes, maxPackets: options.limits.maxRequestPackets });
  return options.version === 2 ? uploadPackV2(repo, lines) : uploadPackV0(repo, lines);
}
