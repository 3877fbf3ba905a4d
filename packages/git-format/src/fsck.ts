import type { ObjectId, ObjectType } from './oid.js';

/** An object that git's `receive.fsckObjects` would refuse; `id` is git's fsck message id (e.g. "badTimezone"). */
export declare class FsckError extends Error {
  readonly id: string;
}

/**
 * Checks one object as `git fsck` does (headers, signatures, tree entry modes, names and
 * order, tag fields). Returns the ids this object points to (tree, parents, entries, tagged object)
 * so that callers can check connectivity; throws FsckError when it is malformed.
 */
export declare function fsckObject(type: ObjectType, body: Uint8Array): ObjectId[];
