import type { ObjectId, ObjectType } from '@gitfleet/git-format';
import { MissingObjectError } from '../errors.js';
import { openObjectStream, type ObjectStream } from '../object-stream.js';
import type { Repository } from '../repository.js';

/**
 * An object the repository must have, of the type its referrer says (a tree a commit names, a
 * blob a tree names), as a stream (see openObjectStream): bytes stored whole are inflated as
 * they are read, never held whole.
 */
export async function openTypedObject(repo: Repository, oid: ObjectId, type: ObjectType, context: string): Promise<ObjectStream> {
  const opened = await openObjectStream(repo, oid, repo.inMemoryReads);
  if (!opened) throw new MissingObjectError(oid, `${context}: a ${type} of repository ${repo.info.owner}/${repo.info.name}`);
  if (opened.type !== type) {
    opened.stream.destroy();
    throw new Error(`${context}: object ${oid} is a ${opened.type}, expected a ${type}`);
  }
  return opened;
}
