/** Names whose last tree a walk remembers (a few hundred directory names in a large project). */
const MAX_RECENT_TREES = 4096;

/** The last tree read under each name, for a bounded number of names. */
export class RecentTrees {
  private readonly byName = new Map<string, Buffer>();

  get(name: string): Buffer | undefined {
    return this.byName.get(name);
  }

  set(name: string, data: Buffer): void {
    // A directory tree with very many names: start over rather than hold them all.
    if (this.byName.size >= MAX_RECENT_TREES && !this.byName.has(name)) this.byName.clear();
    this.byName.set(name, data);
  }
}

/** How many leading bytes `a` and `b` share: a binary search over native comparisons. */
export function commonPrefixLength(a: Buffer, b: Buffer | undefined): number {
  if (b === undefined) return 0;
  let lo = 0; // a[0, lo) === b[0, lo)
  let hi = Math.min(a.length, b.length) + 1; // a[0, hi) differs from b[0, hi)
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (a.compare(b, 0, mid, 0, mid) === 0) lo = mid;
    else hi = mid;
  }
  return lo;
}
