import { lowerBound } from '@gitfleet/repository';

/**
 * ls-refs' "ref-prefix" filter, as git's for_each_fullref_in_prefixes applies it: whether a
 * name starts with one of the prefixes, in O(log prefixes) per name whatever their number.
 */
export class RefPrefixes {
  /** Sorted, none a prefix of another (a longer one adds nothing to a shorter one it starts with). */
  private readonly kept: string[] = [];

  /** No prefix at all lets every name through. */
  constructor(prefixes: readonly string[]) {
    for (const prefix of [...new Set(prefixes)].sort()) {
      const last = this.kept.at(-1);
      // Sorted, every prefix a kept one covers comes right after it.
      if (last === undefined || !prefix.startsWith(last)) this.kept.push(prefix);
    }
  }

  matches(name: string): boolean {
    if (this.kept.length === 0) return true;
    // The only kept prefix `name` can start with is the greatest one not above it: the kept
    // prefixes between that one and `name` would have to start with it.
    const next = lowerBound(this.kept, name);
    if (this.kept[next] === name) return true;
    return next > 0 && name.startsWith(this.kept[next - 1]);
  }
}
