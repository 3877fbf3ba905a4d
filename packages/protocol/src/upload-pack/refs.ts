import { setImmediate as nextTurn } from 'node:timers/promises';
import { Lru, type ObjectId, type ObjectType } from '@gitfleet/git-format';
import type { CommitReader, Ref, Repository } from '@gitfleet/repository';

const PEELS_PER_TURN = 512;

export interface AdvertisedRef {
  name: string;
  oid: ObjectId;
  /** For an annotated tag: the object it finally points at. */
  peeled?: ObjectId;
  /** Type of the object the ref finally points at. */
  targetType: ObjectType;
}

/** The refs as one request sees them, read once. */
export interface RefSnapshot extends PeeledRefs {
  /** Target of HEAD, e.g. "refs/heads/main". */
  headTarget: string;
  /** What HEAD resolves to; undefined while its branch is unborn. */
  head: ObjectId | undefined;
}

/** Every ref under refs/ with its tag peeled: what the refs alone determine, shared between requests. */
interface PeeledRefs {
  /** Sorted by name. */
  refs: readonly Readonly<AdvertisedRef>[];
  /** The same refs by name: a request may name refs hundreds of thousands of times. */
  byName: ReadonlyMap<string, Readonly<AdvertisedRef>>;
}

/** What one peeled ref costs the cache: its name (two bytes a character), two ids, the objects around them. */
const PEELED_REF_OVERHEAD_BYTES = 250;
/** Peeled listings a process keeps, per set of stores. */
const PEELED_REFS_BYTES = 32 * 1024 * 1024;
/** Which listing of a repository was peeled last: its id and the key, for this many bytes of them. */
const LAST_KEPT_BYTES = 1024 * 1024;
const LAST_KEPT_OVERHEAD_BYTES = 100;

/**
 * Peeled listings by repository and ref version (RefListing.version): every request of a fetch
 * (ls-refs, then each round of negotiation) and every clone or ls-remote between two pushes
 * reads the same refs, and peeling thousands of tags is most of what loading them costs.
 * Concurrent requests for a listing not kept yet share one peeling, and a new version peels only
 * the refs that changed since the repository's last listing kept: what a ref peels to depends on
 * its id alone.
 */
class PeeledRefsCache {
  private readonly kept = new Lru<string, PeeledRefs>(PEELED_REFS_BYTES, ({ refs }) =>
    refs.reduce((bytes, ref) => bytes + 2 * ref.name.length + PEELED_REF_OVERHEAD_BYTES, 0),
  );
  /** Repository → key of its listing peeled last (which `kept` may have dropped since). */
  private readonly lastKept = new Lru<string, string>(LAST_KEPT_BYTES, (key) => 2 * key.length + LAST_KEPT_OVERHEAD_BYTES);
  private readonly peeling = new Map<string, Promise<PeeledRefs>>();

  get(repositoryId: string, version: string, peel: (previous: PeeledRefs | undefined) => Promise<PeeledRefs>): Promise<PeeledRefs> {
    const key = `${repositoryId}\0${version}`;
    const kept = this.kept.get(key);
    if (kept) return Promise.resolve(kept);
    let peeling = this.peeling.get(key);
    if (!peeling) {
      const lastKey = this.lastKept.get(repositoryId);
      peeling = peel(lastKey === undefined ? undefined : this.kept.get(lastKey)).then((peeled) => {
        this.kept.set(key, peeled);
        this.lastKept.set(repositoryId, key);
        return peeled;
      });
      const done = () => this.peeling.delete(key);
      peeling.then(done, done);
      this.peeling.set(key, peeling);
    }
    return peeling;
  }
}

/** Per set of stores, as the ref listings themselves: repositories of other stores (tests' other processes) share nothing. */
const peeledRefsByStores = new WeakMap<object, PeeledRefsCache>();

export async function loadRefs(repo: Repository, reader: CommitReader): Promise<RefSnapshot> {
  const [headTarget, listing] = await Promise.all([repo.refs.head(), repo.refs.listing()]);
  let peeled: PeeledRefs;
  if (listing.version === undefined) {
    peeled = await peelAll(reader, listing.refs);
  } else {
    let cache = peeledRefsByStores.get(repo.stores);
    if (!cache) peeledRefsByStores.set(repo.stores, (cache = new PeeledRefsCache()));
    peeled = await cache.get(repo.info.id, listing.version, (previous) => peelAll(reader, listing.refs, previous));
  }
  return { headTarget, head: peeled.byName.get(headTarget)?.oid, ...peeled };
}

/** Peels every ref of `list`; a ref `previous` holds with the same id is taken from it as it is. */
async function peelAll(reader: CommitReader, list: readonly Ref[], previous?: PeeledRefs): Promise<PeeledRefs> {
  const refs: Readonly<AdvertisedRef>[] = [];
  // Peeled concurrently for stores that really wait, a batch per turn of the event loop for
  // caches that answer at once (and for a listing of many refs, even when none is peeled).
  for (let start = 0; start < list.length; start += PEELS_PER_TURN) {
    if (start > 0) await nextTurn();
    const batch = list.slice(start, start + PEELS_PER_TURN);
    // Most refs of a new version are unchanged: those are taken as they are, without a promise each.
    const kept = batch.map(({ name, oid }) => keptAsPeeled(previous, name, oid));
    const changed = batch.filter((_, at) => kept[at] === undefined);
    const peeled = new Map(
      await Promise.all(changed.map(async ({ name, oid }) => [name, await advertisedRef(reader, name, oid)] as const)),
    );
    batch.forEach(({ name }, at) => refs.push(kept[at] ?? peeled.get(name)!));
  }
  return { refs, byName: new Map(refs.map((ref) => [ref.name, ref])) };
}

/** The ref as `previous` peeled it, when its id is the same. */
function keptAsPeeled(previous: PeeledRefs | undefined, name: string, oid: ObjectId): Readonly<AdvertisedRef> | undefined {
  const known = previous?.byName.get(name);
  return known?.oid === oid ? known : undefined;
}

async function advertisedRef(reader: CommitReader, name: string, oid: ObjectId): Promise<Readonly<AdvertisedRef>> {
  const peeled = await reader.peel(oid);
  if (!peeled) throw new Error(`ref ${name} points at ${oid}, which is missing`);
  const ref: AdvertisedRef = { name, oid, targetType: peeled.type };
  if (peeled.chain.length > 0) ref.peeled = peeled.oid;
  return Object.freeze(ref);
}

/** Ids a client may always ask for: every ref's value and peeled value. */
export function tipIds(snapshot: RefSnapshot): Set<ObjectId> {
  const tips = new Set<ObjectId>();
  for (const ref of snapshot.refs) {
    tips.add(ref.oid);
    if (ref.peeled) tips.add(ref.peeled);
  }
  return tips;
}

/** The commits the refs finally point at: where reachability walks start. */
export function tipCommits(snapshot: RefSnapshot): ObjectId[] {
  const commits = new Set<ObjectId>();
  for (const ref of snapshot.refs) if (ref.targetType === 'commit') commits.add(ref.peeled ?? ref.oid);
  return [...commits];
}

/**
 * The ref a short name means, by git's rules (refs/<n>, refs/tags/<n>, refs/heads/<n>,
 * refs/remotes/<n>, refs/remotes/<n>/HEAD). Undefined when none or several match.
 */
export function expandRef(snapshot: RefSnapshot, name: string): AdvertisedRef | undefined {
  const candidates = [name, `refs/${name}`, `refs/tags/${name}`, `refs/heads/${name}`, `refs/remotes/${name}`, `refs/remotes/${name}/HEAD`];
  const matches = new Set<AdvertisedRef>();
  for (const candidate of candidates) {
    const ref = snapshot.byName.get(candidate);
    if (ref) matches.add(ref);
  }
  return matches.size === 1 ? [...matches][0] : undefined;
}

/** Ids of the annotated tags under refs/tags/: candidates for include-tag. */
export function annotatedTags(snapshot: RefSnapshot): ObjectId[] {
  return snapshot.refs.filter((ref) => ref.peeled !== undefined && ref.name.startsWith('refs/tags/')).map((ref) => ref.oid);
}
