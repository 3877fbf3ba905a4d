/**
 * Inflated deltas kept from the first pass for the second, in one growing buffer with a
 * fixed ceiling: most deltas are small, and keeping them spares pass two a read and an
 * inflate each (half its work). Deltas that do not fit are re-read from the file instead.
 */
export class DeltaArena {
  private buf = Buffer.allocUnsafe(0);
  private used = 0;
  /** Start of each entry's delta in buf, or -1. */
  private starts: Float64Array;
  private lengths: Uint32Array;

  constructor(
    entryCount: number,
    private readonly limit: number,
  ) {
    this.starts = new Float64Array(entryCount).fill(-1);
    this.lengths = new Uint32Array(entryCount);
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
