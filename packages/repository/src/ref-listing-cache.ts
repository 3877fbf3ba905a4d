import { Lru, type CacheStats, type ObjectId } from '@gitfleet/git-format';

/** A listed ref (RefDB's Ref). */
interface Ref {
  name: string;
  oid: ObjectId;
}

/** What one listed ref costs the cache: its name (two bytes a character), its id, the object around them. */
const REF_OVERHEAD_BYTES = 150;

interface Listing {
  /** The repository's journal sequence number when the listing was read. */
  seq: string;
  refs: readonly Ref[];
}

/**
 * Ref listings of repositories, each valid while the repository's journal sequence number is
 * what it was read at: every ref transaction moves that number in the same compare-and-swap
 * that moves its refs (RefJournal), so a listing whose number is still current is the ref
 * table as it is. Checking costs one KV read instead of a scan of every ref, which for a
 * repository of thousands of refs is most of the cost of an advertisement (ls-remote, fetch,
 * push). Bounded by bytes; shared by the repositories of the process.
 */
export class RefListingCache {
  private readonly listings: Lru<string, Listing>;

  constructor(maxBytes: number) {
    this.listings = new Lru(maxBytes, ({ refs }) => refs.reduce((bytes, ref) => bytes + 2 * ref.name.length + REF_OVERHEAD_BYTES, 0));
  }

  /** The refs under `prefix` of `repositoryId` if they were read at sequence number `seq`. */
  get(repositoryId: string, prefix: string, seq: string): readonly Ref[] | undefined {
    const listing = this.listings.get(key(repositoryId, prefix));
    return listing?.seq === seq ? listing.refs : undefined;
  }

  /**
   * Keeps `refs`, read after the repository's sequence number was `seq` (read first: a later
   * change then shows as a newer number); returns the frozen listing kept, which get() returns.
   */
  set(repositoryId: string, prefix: string, seq: string, refs: readonly Ref[]): readonly Readonly<Ref>[] {
    const kept = Object.freeze(refs.map((ref) => Object.freeze({ ...ref })));
    this.listings.set(key(repositoryId, prefix), { seq, refs: kept });
    return kept;
  }

  stats(): CacheStats {
    return this.listings.stats();
  }
}

function key(repositoryId: string, prefix: string): string {
  return `${repositoryId}\0${prefix}`;
}

/** The cache of processes that configure none. */
export const sharedRefListingCache = new RefListingCache(32 * 1024 * 1024);
