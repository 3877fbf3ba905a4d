import { createHash } from 'node:crypto';

/** The outgoing pack's bytes: running offset and SHA-1, handed on in pieces. */
export class OutputBuffer {
  offset = 0;
  pendingBytes = 0;
  private pending: Buffer[] = [];
  private readonly hash = createHash('sha1');

  write(bytes: Buffer): void {
    this.hash.update(bytes);
    this.offset += bytes.length;
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
  }

  take(): Buffer {
    const chunk = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    return chunk;
  }

  /** Appends the trailer: the SHA-1 of everything before it. */
  finish(): void {
    const trailer = this.hash.digest();
    this.offset += trailer.length;
    this.pending.push(trailer);
    this.pendingBytes += trailer.length;
  }
}
