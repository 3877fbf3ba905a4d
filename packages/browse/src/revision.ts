import { isObjectId, type ObjectId } from '@gitfleet/git-format';
import type { Repository } from '@gitfleet/repository';
import { RevisionNotFound } from './errors.js';
import { commitReader } from './objects.js';

/** git's shortest abbreviation (MINIMUM_ABBREV). */
const MIN_ABBREV = 4;

/**
 * The commit a revision names. Besides names and ids, accepts git's ancestry suffixes
 * (`main~2`, `v1.0^2`, `HEAD^`, `x^{commit}`, `x^{}`), which ref names cannot contain.
 * Names are looked up as git's `rev-parse` does: HEAD, a full ref name, then refs/<name>,
 * refs/tags/<name>, refs/heads/<name>, refs/remotes/<name>(/HEAD); only when no ref matches,
 * an abbreviated id.
 */
export async function resolveRevision(repo: Repository, revision: string): Promise<ObjectId> {
  const where = `${repo.info.owner}/${repo.info.name}`;
  const suffixAt = revision.search(/[~^]/);
  const base = suffixAt < 0 ? revision : revision.slice(0, suffixAt);
  const suffix = suffixAt < 0 ? '' : revision.slice(suffixAt);
  if (base === '') throw new RevisionNotFound(`revision ${JSON.stringify(revision)} names nothing in ${where}`);

  const object = await resolveName(repo, base, where);
  const reader = commitReader(repo);
  const peeled = await reader.peel(object);
  if (!peeled) throw new RevisionNotFound(`revision ${revision}: object ${object} is missing from ${where}`);
  if (peeled.type !== 'commit') throw new RevisionNotFound(`revision ${revision} names a ${peeled.type}, not a commit`);

  let commit = peeled.oid;
  const steps = /\^\{(?:commit)?\}|([~^])(\d*)/gy;
  let at = 0;
  while (at < suffix.length) {
    steps.lastIndex = at;
    const step = steps.exec(suffix);
    if (!step) throw new RevisionNotFound(`revision ${JSON.stringify(revision)}: cannot parse ${JSON.stringify(suffix.slice(at))}`);
    at = steps.lastIndex;
    if (step[1] === undefined) continue; // ^{} and ^{commit}: already a commit
    const count = step[2] === '' ? 1 : Number(step[2]);
    if (step[1] === '~') {
      for (let i = 0; i < count; i++) commit = await nthParent(reader, commit, 1, revision);
    } else if (count > 0) {
      commit = await nthParent(reader, commit, count, revision);
    }
  }
  return commit;
}

async function nthParent(reader: ReturnType<typeof commitReader>, commit: ObjectId, n: number, revision: string): Promise<ObjectId> {
  const { parents } = await reader.commit(commit, `revision ${revision}`);
  if (parents.length < n) throw new RevisionNotFound(`revision ${revision}: commit ${commit} has no parent ${n}`);
  return parents[n - 1];
}

/** The object (not yet peeled) a name or id denotes. */
async function resolveName(repo: Repository, name: string, where: string): Promise<ObjectId> {
  const lower = name.toLowerCase();
  if (isObjectId(lower)) {
    if (await repo.objects.has(lower)) return lower;
    throw new RevisionNotFound(`no object ${lower} in ${where}`);
  }
  if (name === 'HEAD') {
    const head = await repo.refs.get('HEAD');
    if (head === undefined) throw new RevisionNotFound(`HEAD of ${where} points at ${await repo.refs.head()}, which does not exist yet`);
    return head;
  }
  const candidates = name.startsWith('refs/')
    ? [name]
    : [`refs/${name}`, `refs/tags/${name}`, `refs/heads/${name}`, `refs/remotes/${name}`, `refs/remotes/${name}/HEAD`];
  const found = await Promise.all(candidates.map((ref) => repo.refs.get(ref)));
  const first = found.find((oid) => oid !== undefined);
  if (first !== undefined) return first;
  if (lower.length >= MIN_ABBREV && /^[0-9a-f]+$/.test(lower)) return resolveAbbreviation(repo, lower, where);
  throw new RevisionNotFound(`no branch, tag or commit ${JSON.stringify(name)} in ${where}`);
}

/**
 * The one object whose id starts with `prefix`, looked up by binary search in each pack's
 * index. When several match, those that are commits (or tags of commits) are preferred, as
 * git does where it expects a commit; still several is an error.
 */
async function resolveAbbreviation(repo: Repository, prefix: string, where: string): Promise<ObjectId> {
  const matches = new Set<ObjectId>();
  for (let attempt = 0; attempt < 2 && matches.size === 0; attempt++) {
    // A miss re-reads the pack registry once: another process may have just added the pack.
    if (attempt > 0) await repo.packs.refresh();
    for (const pack of await repo.packs.list()) {
      const index = await repo.packs.index(pack.checksum);
      for (const oid of index.idsWithPrefix(prefix, 16)) matches.add(oid);
    }
  }
  if (matches.size === 0) throw new RevisionNotFound(`no branch, tag or commit ${JSON.stringify(prefix)} in ${where}`);
  if (matches.size === 1) return [...matches][0];
  const reader = commitReader(repo);
  const commits: ObjectId[] = [];
  for (const oid of matches) {
    if ((await reader.peel(oid))?.type === 'commit') commits.push(oid);
  }
  if (commits.length === 1) return commits[0];
  throw new RevisionNotFound(
    `short id ${prefix} is ambiguous in ${where}: ${[...matches].slice(0, 5).join(', ')}${matches.size > 5 ? ', …' : ''}`,
  );
}

/** A URL's "<revision>/<path>" split in two. */
export interface RevisionPath {
  /** As written in the URL: a branch or tag name, or a commit id. */
  ref: string;
  commit: ObjectId;
  /** What follows the revision, "" for the root. */
  path: string;
}

/**
 * Splits a URL's "<revision>/<path>" (as in /tree/feature/x/src/a.ts) where branch and tag
 * names may contain slashes, as GitHub does: the longest leading segments that name a branch
 * (then a tag) win, else a commit id (full or abbreviated to at least 7 digits) in the first
 * segment. Asks the ref store for at most two refs per segment. Throws RevisionNotFound when
 * nothing matches.
 */
export async function resolveRevisionPath(repo: Repository, revisionAndPath: string): Promise<RevisionPath> {
  const segments = revisionAndPath.split('/').filter((segment) => segment !== '');
  if (segments.length === 0) throw new RevisionNotFound('no branch, tag or commit given');
  for (let length = segments.length; length >= 1; length--) {
    const ref = segments.slice(0, length).join('/');
    for (const prefix of ['refs/heads/', 'refs/tags/']) {
      // A segment no ref name may hold (refused by the ref store) names no branch either.
      if ((await repo.refs.get(prefix + ref).catch(() => undefined)) === undefined) continue;
      return { ref, commit: await resolveRevision(repo, prefix + ref), path: segments.slice(length).join('/') };
    }
  }
  const [first] = segments;
  if (!/^[0-9a-f]{7,64}$/i.test(first)) throw new RevisionNotFound(`no branch, tag or commit named ${first}`);
  return { ref: first, commit: await resolveRevision(repo, first), path: segments.slice(1).join('/') };
}
