import type { Readable } from 'node:stream';
import type { Repository } from '@gitfleet/repository';
import type { ProtocolLimits, ProtocolVersion } from '../options.js';

/**
 * The body of `GET info/refs?service=git-upload-pack` after the "# service=" line:
 * v0/v1 ref advertisement with capabilities, or the v2 capability advertisement.
 */
export declare function advertiseUploadPack(repo: Repository, version: ProtocolVersion): Promise<Buffer[]>;

export interface UploadPackOptions {
  version: ProtocolVersion;
  limits: ProtocolLimits;
}

/**
 * Serves one stateless-RPC upload-pack request. Resolves once the request has been read
 * and validated (rejects with ProtocolError otherwise, before any output) to the
 * response, which is streamed with bounded memory.
 */
export declare function uploadPack(repo: Repository, request: Readable, options: UploadPackOptions): Promise<AsyncIterable<Buffer>>;
