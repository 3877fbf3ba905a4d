import type { ObjectId, ObjectType } from '@gitfleet/git-format';
import type { Repository } from '@gitfleet/repository';
import { openTypedObject, type CommitReader } from '@gitfleet/repository';

/**
 * The object's data when it exists with the expected type; undefined otherwise, so that each
 * caller turns "not there" into its own error (a revision, a path).
 */
export async function readTyped(repo: Repository, oid: ObjectId, type: ObjectType): Promise<Buffer | undefined> {
  const object = await repo.objects.read(oid);
  return object?.type === type ? object.data : undefined;
}

/** Data of an object the repository must have (a tree a commit names, a blob a tree names). */
export async function readRequired(repo: Repository, oid: ObjectId, type: ObjectType, context: string): Promise<Buffer> {
  const object = await repo.objects.read(oid);
  if (!object) throw new Error(`${context}: ${type} ${oid} is missing from repository ${repo.info.owner}/${repo.info.name}`);
  if (object.type !== type) throw new Error(`${context}: object ${oid} is a ${object.type}, expected a ${type}`);
  return object.data;
}

/**
 * The walks' commit reader, sharing the process-wide memo of parsed commits (tree, parents,
 * committer time) keyed by repository id, as the fetch walks do.
 */
export function commitReader(repo: Repository): CommitReader {
  return repo.commitReader();
}

/** The first `maxBytes` bytes of a blob, inflating no more of it than that when it is stored whole. */
export async function readBlobPrefix(repo: Repository, oid: ObjectId, maxBytes: number, context: string): Promise<Buffer> {
  const { stream } = await openTypedObject(repo, oid, 'blob', context);
  const parts: Buffer[] = [];
  let length = 0;
  // Leaving the loop early destroys the stream: the rest is never inflated.
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    parts.push(chunk);
    length += chunk.length;
    if (length >= maxBytes) break;
  }
  return Buffer.concat(parts).subarray(0, maxBytes);
}
