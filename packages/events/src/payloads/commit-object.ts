import { parseCommit, type ObjectId, type Signature } from '@gitfleet/git-format';
import type { ObjectReader } from '@gitfleet/repository';
import type { PushFileLists } from './changed-paths.js';

/** A commit as GitHub's push event lists it. */
export interface PushCommit {
  id: ObjectId;
  tree_id: ObjectId;
  distinct: boolean;
  message: string;
  timestamp: string;
  url: string;
  author: { name: string; email: string };
  committer: { name: string; email: string };
  added: string[];
  removed: string[];
  modified: string[];
}

/**
 * The push-event form of a commit: its files are diffed against the first parent (as GitHub
 * and `git show --first-parent` do for merges) within the push's bounds, its timestamp is the
 * author date in the author's own offset.
 */
export async function pushCommit(
  objects: Pick<ObjectReader, 'read'>,
  fileLists: PushFileLists,
  oid: ObjectId,
  distinct: boolean,
  htmlUrl: string,
): Promise<PushCommit> {
  const object = await objects.read(oid);
  if (!object) throw new Error(`commit ${oid} is missing`);
  if (object.type !== 'commit') throw new Error(`object ${oid} is a ${object.type}, expected a commit`);
  const commit = parseCommit(object.data);
  const parent = commit.parents[0];
  const parentTree = parent === undefined ? undefined : await treeOf(objects, parent);
  const files = await fileLists.between(parentTree, commit.tree);
  return {
    id: oid,
    tree_id: commit.tree,
    distinct,
    message: wellFormed(commit.message.replace(/\n+$/, '')),
    timestamp: isoTimestamp(commit.author),
    url: `${htmlUrl}/commit/${oid}`,
    author: person(commit.author),
    committer: person(commit.committer),
    ...files,
  };
}

async function treeOf(objects: Pick<ObjectReader, 'read'>, commitId: ObjectId): Promise<ObjectId> {
  const object = await objects.read(commitId);
  if (!object || object.type !== 'commit') throw new Error(`parent commit ${commitId} is missing`);
  return parseCommit(object.data).tree;
}

function person(signature: Signature): { name: string; email: string } {
  return { name: wellFormed(signature.name), email: wellFormed(signature.email) };
}

/**
 * Parsed objects keep bytes that are not UTF-8 as lone surrogates U+DC80..U+DCFF (so they
 * serialise back losslessly); JSON consumers get the replacement character instead.
 */
export function wellFormed(text: string): string {
  // Only lone ones: U+1F480 and its neighbours have low surrogates in the same range.
  return text.replace(/(?<![\uD800-\uDBFF])[\uDC80-\uDCFF]/g, '\uFFFD');
}

/** ISO 8601 in the signature's own offset, as `git log --format=%aI` prints it. */
export function isoTimestamp(signature: Signature): string {
  const match = /^([+-])(\d{2})(\d{2})$/.exec(signature.timezone);
  // git writes a malformed zone as it found it; UTC is the only honest reading of one.
  const sign = match?.[1] === '-' ? -1 : 1;
  const offsetMinutes = match ? sign * (Number(match[2]) * 60 + Number(match[3])) : 0;
  const local = new Date((signature.timestamp + offsetMinutes * 60) * 1000).toISOString().slice(0, 19);
  const hours = String(Math.floor(Math.abs(offsetMinutes) / 60)).padStart(2, '0');
  const minutes = String(Math.abs(offsetMinutes) % 60).padStart(2, '0');
  return `${local}${offsetMinutes < 0 ? '-' : '+'}${hours}:${minutes}`;
}
