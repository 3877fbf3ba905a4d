import type { Readable } from 'node:stream';
import type { Repository } from '@gitfleet/repository';
import type { ObjectId } from '@gitfleet/git-format';
import type { ProtocolLimits } from '../options.js';

/** The body of `GET info/refs?service=git-receive-pack` after the "# service=" line. */
export declare function advertiseReceivePack(repo: Repository): Promise<Buffer[]>;

export interface AppliedRefUpdate {
  name: string;
  oldOid: ObjectId;
  newOid: ObjectId;
}

export interface ReceivePackOptions {
  limits: ProtocolLimits;
  /** Local directory for spooling incoming packs. */
  spoolDir: string;
  /** Called after refs moved (events, webhooks), before report-status is sent. */
  onRefsUpdated?(updates: AppliedRefUpdate[], pushOptions: string[]): Promise<void>;
}

/**
 * Serves one stateless-RPC receive-pack request. Resolves once the commands have been
 * parsed (rejects with ProtocolError before any output otherwise) to the response:
 * progress while the pack is indexed, then report-status.
 */
export declare function receivePack(repo: Repository, request: Readable, options: ReceivePackOptions): Promise<AsyncIterable<Buffer>>;
