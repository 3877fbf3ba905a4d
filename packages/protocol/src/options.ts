export type ProtocolVersion = 0 | 1 | 2;

export interface ProtocolLimits {
  /** Largest upload-pack request body (wants, haves, commands). */
  maxRequestBytes: number;
  /** Largest pack a push may send. */
  maxPackBytes: number;
  /** Largest inflated object a push may contain. */
  maxObjectSize: number;
}

export const AGENT = 'gitfleet/0.1.0';
