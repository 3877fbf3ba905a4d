import type { Readable } from 'node:stream';
import type { Repository } from '@gitfleet/repository';
import type { ProtocolLimits, ProtocolVersion } from '../options.js';
import type { PackfileUriSource } from './packfile-uris.js';
import { RequestLines } from './request.js';
import { uploadPackV0 } from './v0.js';
import { uploadPackV2 } from './v2.js';

export { advertiseUploadPack, type UploadPackAdvertisement } from './advertise.js';
export { schemeOf, type PackfileUriSource } from './packfile-uris.js';

export interface UploadPackOptions {
  version: ProtocolVersion;
  limits: ProtocolLimits;
  /** Makes the URIs of packs offered to v2 clients that ask for packfile URIs; without it none is offered. */
  packfileUris?: PackfileUriSource;
}

/**
 * Serves one stateless-RPC upload-pack request. Resolves once the request has been read
 * and validated (rejects with ProtocolError otherwise, before any output) to the
 * response, which is streamed with bounded memory.
 */
export async function uploadPack(repo: Repository, request: Readable, options: UploadPackOptions): Promise<AsyncIterable<Buffer>> {
  const lines = new RequestLines(request, { maxBytes: options.limits.maxRequestBytes, maxPackets: options.limits.maxRequestPackets });
  return options.version === 2 ? uploadPackV2(repo, lines, options.packfileUris) : uploadPackV0(repo, lines);
}
