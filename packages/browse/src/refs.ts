import type { ObjectId } from '@gitfleet/git-format';
import type { Ref, Repository } from '@gitfleet/repository';
import { commitReader } from './objects.js';
import type { RefInfo } from './types.js';

const HEADS = 'refs/heads/';
const TAGS = 'refs/tags/';

/** Branches by name (git's byte order). */
export async function listBranches(repo: Repository): Promise<RefInfo[]> {
  const refs = await repo.refs.list(HEADS);
  return refs.map((ref) => ({ name: ref.name.slice(HEADS.length), ref: ref.name, commit: ref.oid }));
}

/**
 * Tags by name, annotated ones peeled to their commit. A tag of a tree or a blob (git's own
 * history has one) names no commit, so it is not listed.
 */
export async function listTags(repo: Repository): Promise<RefInfo[]> {
  const refs = await repo.refs.list(TAGS);
  const reader = commitReader(repo);
  const peeled = await Promise.all(refs.map(async (ref: Ref) => ({ ref, target: await reader.peel(ref.oid) })));
  const tags: RefInfo[] = [];
  for (const { ref, target } of peeled) {
    if (target?.type !== 'commit') continue;
    const info: RefInfo = { name: ref.name.slice(TAGS.length), ref: ref.name, commit: target.oid };
    if (target.chain.length > 0) info.tagObject = ref.oid;
    tags.push(info);
  }
  return tags;
}

/** HEAD's branch (it may be unborn: no commit yet). */
export async function defaultBranch(repo: Repository): Promise<{ name: string; commit?: ObjectId }> {
  const head = await repo.refs.head();
  const name = head.startsWith(HEADS) ? head.slice(HEADS.length) : head;
  const commit = await repo.refs.get(head);
  return commit === undefined ? { name } : { name, commit };
}
