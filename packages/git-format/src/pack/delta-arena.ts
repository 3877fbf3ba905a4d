/**
 * Inflated deltas kept from the first pass for the second, in one growing buffer with a
 * fixed ceiling: most deltas are small, and keeping them spares pass two a read and an
 * inflate each (half its work). Deltas that do not fit are re-read from the file instead.
 */
export class DeltaArena {
  private buf: Buffer = Buffer.allocUnsafe(0);
  private used = 0;
  /** Start of each entry's delta in buf, or -1. */
  private starts: Float64Array;
  private lengths: Uint32Array;

  constructor(
    entryCount: number,
    private readonly limit: number,
  ) {
    // On shared memory from the start, so that the threads of pass two read them instead of copies.
    this.starts = new Float64Array(new SharedArrayBuffer(8 * entryCount)).fill(-1);
    this.lengths = new Uint32Array(new SharedArrayBuffer(4 * entryCount));
  }

  /** The kept deltas in shared memory, for the threads of pass two; keep nothing more afterwards. */
  share(): SharedDeltaArena {
    const buf = Buffer.from(new SharedArrayBuffer(this.used));
    this.buf.copy(buf, 0, 0, this.used);
    // The arena reads from the shared copy from now on: the private one would only double its memory.
    this.buf = buf;
    return { buf, starts: this.starts, lengths: this.lengths };
  }

  static attach(shared: SharedDeltaArena): DeltaArena {
    const arena = new DeltaArena(0, 0);
    arena.buf = Buffer.from(shared.buf.buffer, shared.buf.byteOffset, shared.buf.byteLength);
    arena.starts = shared.starts;
    arena.lengths = shared.lengths;
    return arena;
  }

  keep(entry: number, delta: Buffer): void {
    if (this.used + delta.length > this.limit) return;
    if (this.used + delta.length > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.limit, Math.max(1 << 20, 2 * this.buf.length, this.used + delta.length)));
      this.buf.copy(grown, 0, 0, this.used);
      this.buf = grown;
    }
    delta.copy(this.buf, this.used);
    this.starts[entry] = this.used;
    this.lengths[entry] = delta.length;
    this.used += delta.length;
  }

  get(entry: number): Buffer | undefined {
    if (entry >= this.starts.length) return undefined;
    const start = this.starts[entry];
    return start < 0 ? undefined : this.buf.subarray(start, start + this.lengths[entry]);
  }
}

/** Structured-cloneable, nothing copied: the deltas, `starts` and `lengths` are all in shared memory. */
export interface SharedDeltaArena {
  buf: Uint8Array;
  starts: Float64Array;
  lengths: Uint32Array;
}
