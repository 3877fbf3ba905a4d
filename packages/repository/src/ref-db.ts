import type { ObjectId } from '@gitfleet/git-format';

export interface Ref {
  name: string;
  oid: ObjectId;
}

export interface RefUpdate {
  name: string;
  /** The id the ref must have now; ZERO_OID means it must not exist. */
  oldOid: ObjectId;
  /** The id to set; ZERO_OID deletes the ref. */
  newOid: ObjectId;
}

export interface ReflogEntry {
  oldOid: ObjectId;
  newOid: ObjectId;
  /** Who and why, e.g. "push" with a user name once accounts exist. */
  message: string;
  timestamp: number;
}

/** Refs of one repository, in the KV store. */
export interface RefDB {
  /** Every ref under refs/ (sorted by name), in one round trip. */
  list(prefix?: string): Promise<Ref[]>;
  get(name: string): Promise<ObjectId | undefined>;
  /** Target of the symbolic ref HEAD, e.g. "refs/heads/main" (it may be unborn). */
  head(): Promise<string>;
  setHead(target: string): Promise<void>;
  /**
   * Compare-and-swap of several refs in one atomic step, with reflog entries.
   * atomic: all or nothing. Otherwise each ref on its own.
   * @returns names of refs whose old id did not match (those were not changed).
   */
  update(updates: readonly RefUpdate[], options: { atomic: boolean; message: string }): Promise<string[]>;
  reflog(name: string, limit?: number): Promise<ReflogEntry[]>;
}
