import type { Readable } from 'node:stream';
import type { GitObject, ObjectId, ObjectType, PackEntryHeader } from '@gitfleet/git-format';

/** Where an object's entry is stored, for copying it byte for byte into an outgoing pack. */
export interface StoredEntry {
  oid: ObjectId;
  pack: string;
  offset: number;
  /** Offset where the entry ends: the entry's raw bytes are [offset, end). */
  end: number;
  header: PackEntryHeader;
  /** For deltas: the base object's id (for ofs-deltas, looked up through the idx). */
  baseOid?: ObjectId;
}

/** The objects of one repository: a set of immutable packs named by their checksum. */
export interface ObjectDB {
  has(oid: ObjectId): Promise<boolean>;
  /** The object, inflated and delta-resolved; undefined when absent. */
  read(oid: ObjectId): Promise<GitObject | undefined>;
  /** Type and size, resolving only delta headers where possible. */
  header(oid: ObjectId): Promise<{ type: ObjectType; size: number } | undefined>;
  locate(oid: ObjectId): Promise<StoredEntry | undefined>;
  /** The deflated data of a stored entry (the bytes after its header). */
  readDeflated(entry: StoredEntry): Promise<Buffer>;
  /** Streams [start, end) of a stored pack (large sequential copies around the cache). */
  streamPack(pack: string, start: number, end: number): Promise<Readable>;
  /**
   * Stores a complete, verified pack from a local file and its idx, then registers it.
   * Resolves only when both are durable and registered; idempotent for the same pack.
   */
  addPack(packPath: string, packSize: number, idx: Buffer, checksum: ObjectId): Promise<void>;
  /** Re-reads the pack registry (another process may have added packs). */
  refresh(): Promise<void>;
}
