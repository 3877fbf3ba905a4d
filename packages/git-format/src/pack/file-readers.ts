import type { Hash } from 'node:crypto';
import { Lru } from '../lru.js';
import type { PackFile } from './pack-file.js';

const WINDOW = 1 << 20;

/**
 * A forward-only window over the first `limit` bytes of a file: the indexer's first pass.
 * Every byte read is fed once to `hash`, so the pack checksum costs no second read.
 * The window grows only as far as one entry needs (an entry's compressed bytes must be
 * contiguous for a one-shot inflate) and shrinks back afterwards.
 */
export class SequentialWindow {
  /** File position of buf[0]. */
  start = 0;
  /** Valid bytes in buf. */
  length = 0;
  buf: Buffer;
  /** WINDOW, or the whole file when smaller: a push of a few objects needs no megabyte. */
  private readonly window: number;

  constructor(
    private readonly file: PackFile,
    private readonly limit: number,
    private readonly hash: Hash,
  ) {
    this.window = Math.min(WINDOW, limit);
    this.buf = Buffer.allocUnsafe(this.window);
  }

  /** Makes [pos, pos+n) resident, or as much of it as lies before the limit; returns how much is. */
  async ensure(pos: number, n: number): Promise<number> {
    const wantEnd = Math.min(pos + n, this.limit);
    if (pos < this.start) throw new Error(`SequentialWindow: position ${pos} is behind the window at ${this.start}`);
    if (wantEnd > this.start + this.length) await this.fill(pos, wantEnd - pos);
    return Math.min(this.start + this.length, this.limit) - pos;
  }

  /** Bytes [pos, pos+n) of the file; ensure() them first. */
  view(pos: number, n: number): Buffer {
    if (pos < this.start || pos + n > this.start + this.length) throw new Error(`SequentialWindow: ${pos}+${n} is not resident`);
    return this.buf.subarray(pos - this.start, pos - this.start + n);
  }

  private async fill(pos: number, need: number): Promise<void> {
    const keep = this.start + this.length - pos;
    const kept = keep > 0 ? keep : 0;
    const capacity = Math.max(this.window, need);
    if (capacity > this.buf.length || (this.buf.length > 4 * this.window && capacity === this.window)) {
      const next = Buffer.allocUnsafe(capacity);
      if (kept > 0) this.buf.copy(next, 0, pos - this.start, pos - this.start + kept);
      this.buf = next;
    } else if (kept > 0) {
      this.buf.copyWithin(0, pos - this.start, pos - this.start + kept);
    }
    // A skipped gap (keep < 0) never happens: entries are contiguous and read in order.
    this.start = pos;
    this.length = kept;
    while (this.length < need) {
      const filePos = this.start + this.length;
      const toRead = Math.min(this.buf.length - this.length, this.limit - filePos);
      if (toRead <= 0) break;
      const { bytesRead } = await this.file.read(this.buf, this.length, toRead, filePos);
      if (bytesRead === 0) throw new Error(`pack file shrank while being read, at ${filePos}`);
      this.hash.update(this.buf.subarray(this.length, this.length + bytesRead));
      this.length += bytesRead;
    }
  }
}

const BLOCK = 1 << 16;
const MAX_BLOCKS = 256;
const DIRECT_READ = 4 * BLOCK;

/**
 * Random reads through a small LRU of 64 KiB blocks: the second pass reads each delta by
 * offset, and a delta usually sits near its base and its siblings. Reads are synchronous:
 * the spool file is local and mostly in the page cache, and an async round trip per block
 * costs more than the read (indexing runs off the event loop, on a worker thread, or on it
 * only for a pack within a small work cap).
 */
export class BlockReader {
  private readonly blocks = new Lru<number, Buffer>(MAX_BLOCKS, () => 1);

  constructor(private readonly file: Pick<PackFile, 'readSync'>) {}

  read(pos: number, length: number): Buffer {
    if (length > DIRECT_READ) return this.readDirect(pos, length);
    const first = Math.floor(pos / BLOCK);
    const last = Math.floor((pos + length - 1) / BLOCK);
    if (first === last) {
      const block = this.block(first);
      const from = pos - first * BLOCK;
      if (from + length > block.length) throw new Error(`read past the end of the pack file at ${pos}`);
      return block.subarray(from, from + length);
    }
    const out = Buffer.allocUnsafe(length);
    let done = 0;
    for (let b = first; b <= last; b++) {
      const block = this.block(b);
      const from = b === first ? pos - first * BLOCK : 0;
      const n = Math.min(block.length - from, length - done);
      if (n <= 0) throw new Error(`read past the end of the pack file at ${pos + done}`);
      block.copy(out, done, from, from + n);
      done += n;
    }
    return out;
  }

  /** Forgets cached bytes from `pos` on, after the file was written there. */
  invalidateFrom(pos: number): void {
    const first = Math.floor(pos / BLOCK);
    for (const b of [...this.blocks.keys()]) if (b >= first) this.blocks.delete(b);
  }

  private block(b: number): Buffer {
    const cached = this.blocks.get(b);
    if (cached !== undefined) return cached;
    const buf = Buffer.allocUnsafe(BLOCK);
    const bytesRead = this.file.readSync(buf, 0, BLOCK, b * BLOCK);
    const block = buf.subarray(0, bytesRead);
    this.blocks.set(b, block);
    return block;
  }

  private readDirect(pos: number, length: number): Buffer {
    const out = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const bytesRead = this.file.readSync(out, done, length - done, pos + done);
      if (bytesRead === 0) throw new Error(`read past the end of the pack file at ${pos + done}`);
      done += bytesRead;
    }
    return out;
  }
}
