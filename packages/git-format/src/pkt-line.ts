import type { Readable } from 'node:stream';

/** Largest pkt-line: 4 length bytes + 65516 payload bytes. */
export const MAX_PKT_LENGTH = 65520;
export const FLUSH_PKT: Buffer = Buffer.from('0000', 'latin1');
export const DELIM_PKT: Buffer = Buffer.from('0001', 'latin1');
export const RESPONSE_END_PKT: Buffer = Buffer.from('0002', 'latin1');

export type Packet = { kind: 'data'; data: Buffer } | { kind: 'flush' } | { kind: 'delim' } | { kind: 'response-end' };

/** Thrown for anything that is not a well-formed pkt-line stream. */
export class PktLineError extends Error {
  override name = 'PktLineError';
}

/** One pkt-line holding `payload` (a string is encoded as UTF-8; no newline is added). */
export function encodePktLine(payload: string | Uint8Array): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const length = body.byteLength + 4;
  if (length > MAX_PKT_LENGTH) {
    throw new PktLineError(`pkt-line payload of ${body.byteLength} bytes exceeds the maximum of ${MAX_PKT_LENGTH - 4}`);
  }
  const line = Buffer.allocUnsafe(length);
  line.write(length.toString(16).padStart(4, '0'), 0, 'latin1');
  line.set(body, 4);
  return line;
}

/**
 * The pkt-lines holding each of `payloads` (UTF-8; no newline is added), in one buffer: a
 * listing of thousands of refs is one allocation rather than one per line.
 */
export function encodePktLines(payloads: readonly string[]): Buffer {
  const lengths = payloads.map((payload) => {
    const length = Buffer.byteLength(payload, 'utf8') + 4;
    if (length > MAX_PKT_LENGTH) {
      throw new PktLineError(`pkt-line payload of ${length - 4} bytes exceeds the maximum of ${MAX_PKT_LENGTH - 4}`);
    }
    return length;
  });
  const lines = Buffer.allocUnsafe(lengths.reduce((sum, length) => sum + length, 0));
  let at = 0;
  payloads.forEach((payload, i) => {
    lines.write(lengths[i].toString(16).padStart(4, '0'), at, 'latin1');
    lines.write(payload, at + 4, 'utf8');
    at += lengths[i];
  });
  return lines;
}

const FLUSH: Packet = Object.freeze({ kind: 'flush' });
const DELIM: Packet = Object.freeze({ kind: 'delim' });
const RESPONSE_END: Packet = Object.freeze({ kind: 'response-end' });

/** Value of one hex digit (either case, as git's hexval accepts), or -1. */
function hexDigit(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  return -1;
}

/**
 * Reads pkt-lines from a byte stream, then hands over the bytes that follow them
 * (the pack after receive-pack's commands) untouched.
 *
 * Incoming chunks are queued as they arrive and only the bytes of one packet are ever
 * copied, so reading is linear in the stream's size however the source chunks it.
 */
export class PktLineReader {
  private readonly source: AsyncIterator<Buffer | Uint8Array | string>;
  /** Queued chunks; those before `first` are fully consumed (dropped in batches, not one shift per chunk). */
  private chunks: Buffer[] = [];
  private first = 0;
  /** Bytes already consumed from chunks[first]. */
  private head = 0;
  private buffered = 0;
  /** Stream offset of the first byte not yet consumed, for error messages. */
  private offset = 0;
  private ended = false;
  private handedOver = false;

  constructor(source: Readable | AsyncIterable<Buffer>) {
    this.source = (source as AsyncIterable<Buffer | Uint8Array | string>)[Symbol.asyncIterator]();
  }

  /** Next packet; undefined at a clean end of stream; PktLineError when malformed or truncated. */
  async read(): Promise<Packet | undefined> {
    if (this.handedOver) throw new PktLineError('pkt-line reader used after rest() handed the stream over');
    if (!(await this.fill(4))) {
      if (this.buffered === 0) return undefined;
      throw new PktLineError(`truncated pkt-line length at byte offset ${this.offset}: stream ended after ${this.buffered} of 4 bytes`);
    }
    const length = this.peekLength();
    if (length < 4) {
      this.consume(4);
      return length === 0 ? FLUSH : length === 1 ? DELIM : RESPONSE_END;
    }
    if (!(await this.fill(length))) {
      throw new PktLineError(
        `truncated pkt-line at byte offset ${this.offset}: length ${length} but stream ended after ${this.buffered} bytes`,
      );
    }
    this.consume(4);
    return { kind: 'data', data: this.take(length - 4) };
  }

  /** The bytes after the last packet read, as a stream (buffered leftovers first). */
  rest(): AsyncIterable<Buffer> {
    if (this.handedOver) throw new PktLineError('pkt-line reader rest() was already taken');
    this.handedOver = true;
    const leftovers = this.chunks.slice(this.first);
    if (leftovers.length > 0) leftovers[0] = leftovers[0].subarray(this.head);
    this.chunks = [];
    this.first = 0;
    this.head = 0;
    this.buffered = 0;
    return this.drain(leftovers);
  }

  private async *drain(leftovers: Buffer[]): AsyncIterable<Buffer> {
    for (const leftover of leftovers) {
      this.offset += leftover.length;
      yield leftover;
    }
    while (!this.ended) {
      const next = await this.source.next();
      if (next.done) {
        this.ended = true;
        break;
      }
      const chunk = toBuffer(next.value);
      if (chunk.length === 0) continue;
      this.offset += chunk.length;
      yield chunk;
    }
  }

  /** Pulls chunks until `count` bytes are buffered; false if the source ends first. */
  private async fill(count: number): Promise<boolean> {
    while (this.buffered < count) {
      if (this.ended) return false;
      const next = await this.source.next();
      if (next.done) {
        this.ended = true;
        return false;
      }
      const chunk = toBuffer(next.value);
      if (chunk.length === 0) continue;
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    return true;
  }

  /** Decodes the 4-byte length prefix at the read position (at least 4 bytes are buffered). */
  private peekLength(): number {
    let length = 0;
    let chunkIndex = this.first;
    let position = this.head;
    const prefix: number[] = [];
    for (let i = 0; i < 4; i++) {
      while (position >= this.chunks[chunkIndex].length) {
        chunkIndex++;
        position = 0;
      }
      const byte = this.chunks[chunkIndex][position++];
      prefix.push(byte);
      const digit = hexDigit(byte);
      length = digit < 0 ? -1 : length < 0 ? -1 : (length << 4) | digit;
    }
    if (length < 0) {
      throw new PktLineError(`bad pkt-line length prefix ${describe(prefix)} at byte offset ${this.offset}: not 4 hex digits`);
    }
    if (length === 3) {
      throw new PktLineError(`bad pkt-line length 0003 at byte offset ${this.offset}: lengths 1-3 are special packets, 3 is undefined`);
    }
    if (length > MAX_PKT_LENGTH) {
      throw new PktLineError(`bad pkt-line length ${length} at byte offset ${this.offset}: larger than the maximum ${MAX_PKT_LENGTH}`);
    }
    return length;
  }

  /** Drops `count` buffered bytes. */
  private consume(count: number): void {
    this.buffered -= count;
    this.offset += count;
    while (count > 0) {
      const n = Math.min(this.chunks[this.first].length - this.head, count);
      count -= n;
      this.advanceHead(n);
    }
  }

  /** Removes `count` buffered bytes; a slice of one chunk when possible, else one copy. */
  private take(count: number): Buffer {
    if (count === 0) return Buffer.alloc(0);
    const current = this.chunks[this.first];
    if (current.length - this.head >= count) {
      const slice = current.subarray(this.head, this.head + count);
      this.buffered -= count;
      this.offset += count;
      this.advanceHead(count);
      return slice;
    }
    const out = Buffer.allocUnsafe(count);
    let written = 0;
    while (written < count) {
      const chunk = this.chunks[this.first];
      const n = Math.min(chunk.length - this.head, count - written);
      chunk.copy(out, written, this.head, this.head + n);
      written += n;
      this.advanceHead(n);
    }
    this.buffered -= count;
    this.offset += count;
    return out;
  }

  private advanceHead(count: number): void {
    this.head += count;
    if (this.head < this.chunks[this.first].length) return;
    this.head = 0;
    this.first++;
    if (this.first === this.chunks.length) {
      this.chunks = [];
      this.first = 0;
    } else if (this.first >= 1024 && this.first * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
  }
}

function toBuffer(chunk: Buffer | Uint8Array | string): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** The prefix bytes as readable text, e.g. "00zz" or "\x00\x01ab". */
function describe(bytes: number[]): string {
  const text = bytes
    .map((b) => (b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`))
    .join('');
  return `"${text}"`;
}
