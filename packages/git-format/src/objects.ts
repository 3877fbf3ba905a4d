import type { ObjectId, ObjectType } from './oid.js';

export interface GitObject {
  type: ObjectType;
  data: Buffer;
}

export interface Signature {
  name: string;
  email: string;
  /** Seconds since the epoch. */
  timestamp: number;
  /** As written, e.g. "+0200". */
  timezone: string;
}

export interface Commit {
  tree: ObjectId;
  parents: ObjectId[];
  author: Signature;
  committer: Signature;
  /** Other headers (gpgsig, encoding, mergetag…) in order, values unfolded. */
  extraHeaders: Array<[string, string]>;
  message: string;
}

export interface TreeEntry {
  /** Octal mode as written, e.g. "100644", "40000", "160000". */
  mode: string;
  name: string;
  oid: ObjectId;
}

export interface Tag {
  object: ObjectId;
  type: ObjectType;
  tag: string;
  tagger?: Signature;
  extraHeaders: Array<[string, string]>;
  message: string;
}

/** Thrown when bytes claimed to be an object do not parse as one. */
export declare class ObjectParseError extends Error {}

export declare function parseCommit(body: Uint8Array): Commit;
export declare function parseTree(body: Uint8Array): TreeEntry[];
export declare function parseTag(body: Uint8Array): Tag;
export declare function serializeCommit(commit: Commit): Buffer;
export declare function serializeTree(entries: readonly TreeEntry[]): Buffer;
export declare function serializeTag(tag: Tag): Buffer;

/** Cheap accessors for hot paths (walks), without a full parse. */
export declare function commitTreeAndParents(body: Uint8Array): { tree: ObjectId; parents: ObjectId[]; committerTime: number };
/** Iterates a tree's entries without building strings for names unless asked. */
export declare function forEachTreeEntry(body: Uint8Array, visit: (mode: number, name: Buffer, oid: ObjectId) => void): void;
