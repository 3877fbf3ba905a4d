import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ObjectId, ObjectType } from '@gitfleet/git-format';
import type { CommitReader, Repository } from '@gitfleet/repository';

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
export interface RefSnapshot {
  /** Target of HEAD, e.g. "refs/heads/main". */
  headTarget: string;
  /** What HEAD resolves to; undefined while its branch is unborn. */
  head: ObjectId | undefined;
  /** Every ref under refs/, sorted by name, with peeled tags. */
  refs: AdvertisedRef[];
  /** The same refs by name: a request may name refs hundreds of thousands of times. */
  byName: ReadonlyMap<string, AdvertisedRef>;
}

export async function loadRefs(repo: Repository, reader: CommitReader): Promise<RefSnapshot> {
  const [headTarget, list] = await Promise.all([repo.refs.head(), repo.refs.list()]);
  const refs: AdvertisedRef[] = [];
  // Peeled concurrently for stores that really wait, a batch per turn of the event loop for
  // caches that answer at once.
  for (let start = 0; start < list.length; start += PEELS_PER_TURN) {
    if (start > 0) await nextTurn();
    const batch = list.slice(start, start + PEELS_PER_TURN);
    refs.push(...(await Promise.all(batch.map(({ name, oid }) => advertisedRef(reader, name, oid)))));
  }
  const byName = new Map(refs.map((ref) => [ref.name, ref]));
  return { headTarget, head: byName.get(headTarget)?.oid, refs, byName };
}

async function advertisedRef(reader: CommitReader, name: string, oid: ObjectId): Promise<AdvertisedRef> {
  const peeled = await reader.peel(oid);
  if (!peeled) throw new Error(`ref ${name} points at ${oid}, which is missing`);
  const ref: AdvertisedRef = { name, oid, targetType: peeled.type };
  if (peeled.chain.length > 0) ref.peeled = peeled.oid;
  return ref;
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
