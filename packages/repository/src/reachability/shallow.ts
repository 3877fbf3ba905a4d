import type { ObjectId } from '@gitfleet/git-format';
import { walkCommits } from './commit-walk.js';
import type { CommitReader } from './commits.js';

/** `deepen 2147483647`: what `git fetch --unshallow` sends. */
export const INFINITE_DEPTH = 0x7fffffff;

export interface DeepenRequest {
  /** Commits wanted (tags already peeled; other objects left out). */
  wants: readonly ObjectId[];
  /** The client's current shallow commits that exist here. */
  clientShallows: readonly ObjectId[];
  depth?: number;
  /** Depth counts from the client's shallow boundary instead of from the wants. */
  relative?: boolean;
  /** deepen-since: leave out commits older than this committer time. */
  since?: number;
  /** deepen-not: leave out history reachable from these commits. */
  not?: readonly ObjectId[];
  /** For relative deepening: the client's shallow commits that are reachable from our refs. */
  reachableClientShallows?: readonly ObjectId[];
}

export interface ShallowUpdate {
  /** New shallow commits to tell the client ("shallow <id>"). */
  shallow: ObjectId[];
  /** Client shallow commits whose history is now sent ("unshallow <id>"). */
  unshallow: ObjectId[];
  /** Commits whose parents the pack walk must not follow: the new and the client's boundaries. */
  boundary: Set<ObjectId>;
  /** Parents of unshallowed commits: wanted in addition. */
  extraWants: ObjectId[];
  /** Unshallowed commits themselves: the client has them. */
  extraHaves: ObjectId[];
}

export class DeepenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeepenError';
  }
}

/**
 * What upload-pack computes before a shallow fetch (upload-pack.c deepen() and
 * deepen_by_rev_list(), shallow.c get_shallow_commits*()).
 */
export async function computeShallowUpdate(reader: CommitReader, request: DeepenRequest): Promise<ShallowUpdate> {
  const clientShallows = new Set(request.clientShallows);
  let shallowCandidates: ObjectId[] = [];
  let notShallow: Set<ObjectId>;

  const byRevList = request.since !== undefined || (request.not?.length ?? 0) > 0;
  if (request.depth !== undefined && byRevList) {
    throw new DeepenError('deepen and deepen-since (or deepen-not) cannot be used together');
  }
  if (request.depth === INFINITE_DEPTH) {
    notShallow = new Set(clientShallows);
  } else if (request.depth !== undefined) {
    const heads = request.relative ? (request.reachableClientShallows ?? []) : request.wants;
    const depth = request.relative ? request.depth + 1 : request.depth;
    ({ shallow: shallowCandidates, notShallow } = await shallowByDepth(reader, heads, depth));
  } else if (byRevList) {
    const walk = await walkCommits(reader, { include: request.wants, exclude: request.not ?? [], notOlderThan: request.since });
    if (walk.commits.length === 0) throw new DeepenError('no commits selected for shallow requests');
    notShallow = new Set(walk.commits);
    const border = new Set<ObjectId>();
    for (const oid of walk.commits) {
      const commit = await reader.commit(oid, 'selected commit');
      if (commit.parents.some((parent) => !notShallow.has(parent))) border.add(oid);
    }
    for (const oid of border) notShallow.delete(oid);
    shallowCandidates = [...border];
  } else {
    return { shallow: [], unshallow: [], boundary: new Set(clientShallows), extraWants: [], extraHaves: [] };
  }

  const shallow = shallowCandidates.filter((oid) => !clientShallows.has(oid) && !notShallow.has(oid));
  const boundary = new Set([...shallow, ...clientShallows]);
  const unshallow: ObjectId[] = [];
  const extraWants: ObjectId[] = [];
  for (const oid of request.clientShallows) {
    if (!notShallow.has(oid)) continue;
    unshallow.push(oid);
    const commit = await reader.commit(oid, 'client shallow commit');
    extraWants.push(...commit.parents);
  }
  return { shallow, unshallow, boundary, extraWants, extraHaves: unshallow.slice() };
}

/**
 * Commits at `depth` from `heads` (a head is at depth 1) become shallow; those closer are
 * not shallow. Breadth first, so each commit is judged by its shortest distance.
 */
async function shallowByDepth(
  reader: CommitReader,
  heads: readonly ObjectId[],
  depth: number,
): Promise<{ shallow: ObjectId[]; notShallow: Set<ObjectId> }> {
  const shallow: ObjectId[] = [];
  const notShallow = new Set<ObjectId>();
  const seen = new Set<ObjectId>(heads);
  let level = [...seen];
  for (let current = 1; level.length > 0; current++) {
    const next: ObjectId[] = [];
    for (const oid of level) {
      if (current >= depth) {
        shallow.push(oid);
        continue;
      }
      notShallow.add(oid);
      const commit = await reader.commit(oid, 'commit within the requested depth');
      for (const parent of commit.parents) {
        if (seen.has(parent)) continue;
        seen.add(parent);
        next.push(parent);
      }
    }
    level = next;
  }
  return { shallow, notShallow };
}
