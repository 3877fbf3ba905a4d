import type { ObjectId, ObjectType } from '@gitfleet/git-format';
import type { CommitReader, Repository } from '@gitfleet/repository';

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
}

export async function loadRefs(repo: Repository, reader: CommitReader): Promise<RefSnapshot> {
  const [headTarget, list] = await Promise.all([repo.refs.head(), repo.refs.list()]);
  const refs: AdvertisedRef[] = await Promise.all(
    list.map(async ({ name, oid }) => {
      const peeled = await reader.peel(oid);
      if (!peeled) throw new Error(`ref ${name} points at ${oid}, which is missing`);
      const ref: AdvertisedRef = { name, oid, targetType: peeled.type };
      if (peeled.chain.length > 0) ref.peeled = peeled.oid;
      return ref;
    }),
  );
  const head = refs.find((ref) => ref.name === headTarget)?.oid;
  return { headTarget, head, refs };
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
  const byName = new Map(snapshot.refs.map((ref) => [ref.name, ref]));
  const matches = new Set<AdvertisedRef>();
  for (const candidate of candidates) {
    const ref = byName.get(candidate);
    if (ref) matches.add(ref);
  }
  return matches.size === 1 ? [...matches][0] : undefined;
}

/** Ids of the annotated tags under refs/tags/: candidates for include-tag. */
export function annotatedTags(snapshot: RefSnapshot): ObjectId[] {
  return snapshot.refs.filter((ref) => ref.peeled !== undefined && ref.name.startsWith('refs/tags/')).map((ref) => ref.oid);
}
