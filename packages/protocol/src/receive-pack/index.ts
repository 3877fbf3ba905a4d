import type { ObjectId } from '@gitfleet/git-format';
import type { ProtocolLimits } from '../options.js';

/**
 * git receive-pack (gitprotocol-pack, stateless-RPC form): the ref advertisement, then one
 * request — commands, push options, pack — answered with progress and report-status.
 */
export { advertiseReceivePack } from './advertise.js';
export { receivePack } from './receive.js';

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
  /**
   * An unexpected failure (storage, KV) that ended the push after the response began. With it
   * and side-band, the client is told on band 3 and the response ends cleanly; without, the
   * response iterable throws the error.
   */
  onError?(error: unknown): void;
}
