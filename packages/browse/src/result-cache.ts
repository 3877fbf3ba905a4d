/**
 * Results of costly work on immutable inputs (a diff of two trees, a rendered blob), by a key
 * naming those inputs and how the work was done: an entry never goes stale. Requests for a key
 * being computed share that computation. Bounded by the bytes `sizeOf` estimates, least
 * recently used first out; a result over a quarter of the bound, a failure (a busy pool) or an
 * undefined result (given up, perhaps only because the server was busy) is not kept.
 */
export class ResultCache<T> {
  private readonly entries = new Map<string, { value: Promise<T>; bytes: number }>();
  private totalBytes = 0;

  constructor(
    readonly maxBytes: number,
    private readonly sizeOf: (value: T) => number,
  ) {}

  get bytes(): number {
    return this.totalBytes;
  }

  get(key: string, compute: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit) {
      // Re-inserting marks it most recently used (a Map keeps insertion order).
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.value;
    }
    const entry = { value: compute(), bytes: 0 };
    this.entries.set(key, entry);
    const drop = () => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    };
    entry.value.then((value) => {
      if (this.entries.get(key) !== entry) return;
      const bytes = value === undefined ? Infinity : this.sizeOf(value);
      if (bytes > this.maxBytes / 4) {
        drop();
        return;
      }
      entry.bytes = bytes;
      this.totalBytes += bytes;
      for (const [oldest, old] of this.entries) {
        if (this.totalBytes <= this.maxBytes) break;
        this.entries.delete(oldest);
        this.totalBytes -= old.bytes;
      }
    }, drop);
    return entry.value;
  }
}
