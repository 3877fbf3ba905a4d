/** What a caller of receivePack passes: its bounds, and the listeners around the ref update. */
import type { ObjectId, PackLimits } from '@gitfleet/git-format';
import type { ProtocolLimits } from '../options.js';
import type { PackIndexPool } from './index-pool.js';

export interface AppliedRefUpdate {
  name: string;
  oldOid: ObjectId;
  newOid: ObjectId;
}

export interface ReceivePackOptions {
  limits: ProtocolLimits;
  /** Bounds on what the pushed pack expands to (DEFAULT_PACK_LIMITS when absent). */
  packLimits?: PackLimits;
  /** Where packs are indexed, off the event loop (a shared default pool when absent). */
  indexPool?: PackIndexPool;
  /**
   * A bound on this push's pack tighter than limits.maxPackBytes (the room a storage quota
   * leaves), with the reason the client is told when the pack passes it.
   */
  packAllowance?: { bytes: number; reason: string };
  /** Local directory for spooling incoming packs. */
  spoolDir: string;
  /** Who pushes (a user name), recorded in the ref journal. */
  actor?: string;
  /**
   * Asked about each update still to apply once the pushed pack is stored (its objects read
   * through the repository like any other) and before the compare-and-swap: a reason refuses
   * that update alone ("ng <ref> <reason>"; under `atomic`, every update fails), undefined lets
   * it through. Policies that judge a ref's new history (locked paths, quotas, protected
   * branches) plug in here; deletions are asked too. Rejecting fails the push as an internal error.
   */
  refuseUpdate?(update: AppliedRefUpdate, pushed: PushedObjects): Promise<string | undefined>;
  /**
   * Called with the updates about to be applied, just before the compare-and-swap that applies
   * them: a listener that must record the push durably (an outbox of events) does it here, so
   * that nothing is acknowledged unrecorded. Rejecting fails those updates ("ng" with the
   * error's message) and leaves every ref as it was.
   */
  beforeRefUpdate?(updates: AppliedRefUpdate[], pushOptions: string[]): Promise<PreparedRefUpdate | void>;
  /** Called after refs moved (events, webhooks), before report-status is sent. */
  onRefsUpdated?(updates: AppliedRefUpdate[], pushOptions: string[]): Promise<void>;
  /**
   * An unexpected failure (storage, KV) that ended the push after the response began. With it
   * and side-band, the client is told on band 3 and the response ends cleanly; without, the
   * response iterable throws the error.
   */
  onError?(error: unknown): void;
  /** Told what the push came to just before report-status is sent (monitoring); not for a push that failed before it. */
  onReport?(summary: PushSummary): void;
}

/** What a refuseUpdate policy may ask of the push beyond its update. */
export interface PushedObjects {
  /** Whether the object came in this push's pack, i.e. is new to the repository or was sent again. */
  received(oid: ObjectId): boolean;
  /** Every update the policy is asked about in this push, in order: a policy may walk their new history once for all of them. */
  updates: readonly AppliedRefUpdate[];
}

/** What a push came to, as report-status tells it. */
export interface PushSummary {
  /** Objects the client sent (bases appended to complete a thin pack not counted). */
  objects: number;
  /** False when the pack was refused ("unpack" failed). */
  unpacked: boolean;
  /** Ref updates applied and refused. */
  accepted: number;
  rejected: number;
}

/** What a beforeRefUpdate listener asks of the ref update it was told about. */
export interface PreparedRefUpdate {
  /**
   * Written to the reflog entry of each update, atomically with it: the listener can later
   * tell from the reflog which of the updates were applied.
   */
  reflogMessage?: string;
  /** Passed to the ref update (RefUpdateOptions.fence): the listener may later stop it from ever applying. */
  fence?: string;
  /** Called once the compare-and-swap has returned, with the updates it applied (maybe none). */
  afterRefUpdate?(applied: AppliedRefUpdate[]): Promise<void>;
}
