export type ProtocolVersion = 0 | 1 | 2;

export interface ProtocolLimits {
  /** Largest upload-pack request (wants, haves, arguments), counted inflated. */
  maxRequestBytes: number;
  /** Most pkt-lines in one upload-pack request, flushes included. */
  maxRequestPackets: number;
  /** Largest pack a push may send. */
  maxPackBytes: number;
  /** Largest inflated object a push may contain. */
  maxObjectSize: number;
  /** Bytes of a push before its pack: commands, shallow lines and push options. */
  maxPushCommandBytes: number;
  /** Ref updates in one push; its shallow lines are held to the same number. */
  maxPushCommands: number;
  /** Push options (`git push -o`) in one push. */
  maxPushOptions: number;
  /** Longest ref name a push may update, in bytes; a longer one is refused for that ref. */
  maxRefNameBytes: number;
  /**
   * Levels (slash-separated parts) of all the ref names of one push together: the ref store
   * checks every parent directory of each ref it creates (refs git cannot store side by side),
   * one lookup per level in one atomic transaction, so this bounds that transaction.
   */
  maxPushRefLevels: number;
}

export const AGENT = 'gitfleet/0.1.0';
