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
  throw new RevisionNotFound(`short id ${prefix} is ambiguous in ${where}: ${[...matches].slice(0, 5).join(', ')}${matches.size > 5 ? ', …' : ''}`);
}

/**
 * Splits a URL's "<revision>/<path>" (as in /tree/feature/x/src/a.ts) where branch and tag
 * names may contain slashes: the longest leading run of segments that names a branch or a tag
 * wins (as GitHub does); otherwise the first segment is taken as a revision (an id, HEAD, or
 * with ancestry suffixes). Throws RevisionNotFound when nothing matches.
 */
export async function resolveRevisionPath(repo: Repository, revisionAndPath: string): Promise<{ revision: string; commit: ObjectId; path: string }> {
  const segments = revisionAndPath.split('/').filter((segment) => segment !== '');
  if (segments.length === 0) throw new RevisionNotFound('no revision given');
  const [heads, tags] = await Promise.all([repo.refs.list('refs/heads/'), repo.refs.list('refs/tags/')]);
  const names = new Set([...heads.map((ref) => ref.name.slice('refs/heads/'.length)), ...tags.map((ref) => ref.name.slice('refs/tags/'.length))]);
  for (let count = segments.length; count > 1; count--) {
    const revision = segments.slice(0, count).join('/');
    if (names.has(revision)) return { revision, commit: await resolveRevision(repo, revision), path: segments.slice(count).join('/') };
  }
  return { revision: segments[0], commit: await resolveRevision(repo, segments[0]), path: segments.slice(1).join('/') };
}
