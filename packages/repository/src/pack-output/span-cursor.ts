import { CorruptPackError } from '../errors.js';

const EMPTY = Buffer.alloc(0);

/**
 * Reads forward through a stream of pack bytes that starts at pack offset `start`:
 * small pieces (entry headers) as one buffer, entry bodies as a sequence of slices,
 * skipping the bytes in between. Holds at most one stream chunk plus one header.
 */
export class SpanCursor {
  private buffer: Buffer = EMPTY;
  /** Pack offset of buffer[0]. */
  private bufferStart: number;
  private readonly chunks: AsyncIterator<Buffer>;

  constructor(
    private readonly stream: AsyncIterable<Buffer> & { destroy?(): void },
    start: number,
    private readonly pack: string,
  ) {
    this.bufferStart = start;
    this.chunks = stream[Symbol.asyncIterator]();
  }

  /** Bytes [at, at + length) as one buffer (length is small: an entry header). */
  async bytes(at: number, length: number): Promise<Buffer> {
    this.discardBefore(at);
    while (this.bufferStart + this.buffer.length < at + length) {
      const chunk = await this.nextChunk();
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.discardBefore(at);
    }
    const from = at - this.bufferStart;
    return this.buffer.subarray(from, from + length);
  }

  /** Bytes [start, end) as consecutive slices of the stream's chunks. */
  async *range(start: number, end: number): AsyncGenerator<Buffer> {
    let at = start;
    while (at < end) {
      this.discardBefore(at);
      if (this.buffer.length === 0) {
        this.buffer = await this.nextChunk();
        continue;
      }
      // discardBefore left `at` at buffer[0].
      const to = Math.min(this.buffer.length, end - this.bufferStart);
      yield this.buffer.subarray(0, to);
      at = this.bufferStart + to;
    }
  }

  async close(): Promise<void> {
    await this.chunks.return?.();
    // A stream's iterator that was never advanced skips its cleanup on return(): destroy it here.
    this.stream.destroy?.();
  }

  private discardBefore(at: number): void {
    const skip = at - this.bufferStart;
    if (skip <= 0) return;
    if (skip >= this.buffer.length) {
      this.bufferStart += this.buffer.length;
      this.buffer = EMPTY;
    } else {
      this.buffer = this.buffer.subarray(skip);
      this.bufferStart = at;
    }
  }

  /** The chunk that follows the buffer (callers either append it or have emptied the buffer). */
  private async nextChunk(): Promise<Buffer> {
    const next = await this.chunks.next();
    if (next.done)
      throw new CorruptPackError(this.pack, `pack ${this.pack}: stream ended at offset ${this.bufferStart + this.buffer.length}`);
    return next.value;
  }
}
