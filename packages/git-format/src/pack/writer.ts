import type { ObjectId } from '../oid.js';

/**
 * Builds a pack as a sequence of chunks for streaming: the header, entries (either copied
 * as stored or freshly deflated), then the SHA-1 trailer. Tracks each entry's offset so
 * that later ofs-deltas can point back at their base.
 */
export declare class PackWriter {
  constructor(objectCount: number);
  /** Current offset in the output pack (where the next entry starts). */
  readonly offset: number;
  /** The 12-byte header; call first. */
  header(): Buffer;
  /** An entry from a header and already-deflated data (reused bytes, no inflate/deflate). */
  entry(header: Buffer, deflated: Uint8Array): Buffer[];
  /** The 20-byte trailer; checks that exactly objectCount entries were written. */
  trailer(): Buffer;
  readonly checksum: ObjectId | undefined;
}
