import { createHash } from 'node:crypto';

/**
 * The outgoing pack's bytes: running offset and SHA-1, handed on in pieces. Pieces written back
 * to back from one buffer (consecutive entries copied out of one read of a stored pack) are
 * kept as one, so a run of small entries costs one hash update and one piece, not one each.
 */
export class OutputBuffer {
  offset = 0;
  pendingBytes = 0;
  private pending: Buffer[] = [];
  /** The piece being extended: a view of `memory` from `start` to `end`. */
  private memory: ArrayBufferLike | undefined;
  private start = 0;
  private end = 0;
  private readonly hash = createHash('sha1');

  write(bytes: Buffer): void {
    this.offset += bytes.length;
    this.pendingBytes += bytes.length;
    if (bytes.buffer === this.memory && bytes.byteOffset === this.end) {
      this.end += bytes.length;
      return;
    }
    this.closePiece();
    this.memory = bytes.buffer;
    this.start = bytes.byteOffset;
    this.end = bytes.byteOffset + bytes.length;
  }

  /** The pieces written since the last take, in order: not joined, so that framing copies them once. */
  take(): Buffer[] {
    this.closePiece();
    const pieces = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    return pieces;
  }

  /** Appends the trailer: the SHA-1 of everything before it. */
  finish(): void {
    this.closePiece();
    const trailer = this.hash.digest();
    this.offset += trailer.length;
    this.pending.push(trailer);
    this.pendingBytes += trailer.length;
  }

  private closePiece(): void {
    if (this.memory === undefined) return;
    const piece = Buffer.from(this.memory, this.start, this.end - this.start);
    this.memory = undefined;
    this.hash.update(piece);
    this.pending.push(piece);
  }
}
