import { createHash, type Hash } from 'node:crypto';
import type { ObjectId } from '../oid.js';
import { encodePackHeader } from './entry.js';

/**
 * Builds a pack as a sequence of chunks for streaming: the header, entries (either copied
 * as stored or freshly deflated), then the SHA-1 trailer. Tracks each entry's offset so
 * that later ofs-deltas can point back at their base.
 */
export class PackWriter {
  private readonly objectCount: number;
  private readonly hash: Hash = createHash('sha1');
  private written = 0;
  private entriesWritten = 0;
  private stage: 'header' | 'entries' | 'done' = 'header';
  private digest: ObjectId | undefined;

  constructor(objectCount: number) {
    this.objectCount = objectCount;
  }

  /** Current offset in the output pack (where the next entry starts). */
  get offset(): number {
    return this.written;
  }

  /** The 12-byte header; call first. */
  header(): Buffer {
    if (this.stage !== 'header') throw new Error('PackWriter: header() must be called once, first');
    this.stage = 'entries';
    const header = encodePackHeader(this.objectCount);
    this.take(header);
    return header;
  }

  /** An entry from a header and already-deflated data (reused bytes, no inflate/deflate). */
  entry(header: Buffer, deflated: Uint8Array): Buffer[] {
    if (this.stage !== 'entries') throw new Error('PackWriter: entry() after the trailer or before the header');
    if (this.entriesWritten === this.objectCount) throw new Error(`PackWriter: more than the ${this.objectCount} announced entries`);
    this.entriesWritten++;
    const data = Buffer.from(deflated.buffer, deflated.byteOffset, deflated.byteLength);
    this.take(header);
    this.take(data);
    return [header, data];
  }

  /** The 20-byte trailer; checks that exactly objectCount entries were written. */
  trailer(): Buffer {
    if (this.stage !== 'entries') throw new Error('PackWriter: trailer() must follow the header, once');
    if (this.entriesWritten !== this.objectCount) {
      throw new Error(`PackWriter: ${this.entriesWritten} entries written, ${this.objectCount} announced`);
    }
    this.stage = 'done';
    const trailer = this.hash.digest();
    this.digest = trailer.toString('hex');
    this.written += 20;
    return trailer;
  }

  get checksum(): ObjectId | undefined {
    return this.digest;
  }

  private take(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.written += chunk.length;
  }
}
