import type { ObjectId, ObjectType } from '../oid.js';
import type { PackIndexEntry } from './index-file.js';

export interface IndexPackOptions {
  /** Base objects of a thin pack that are not in it: looked up here, then appended to the pack. */
  resolveExternal(oid: ObjectId): Promise<{ type: ObjectType; data: Buffer } | undefined>;
  /** Called once per object with its resolved content (fsck, connectivity). */
  onObject?(oid: ObjectId, type: ObjectType, data: Buffer): void | Promise<void>;
  /** Refuse any object whose inflated size is larger (decompression bombs). */
  maxObjectSize: number;
  /** Progress for sideband lines: phase and counts. */
  onProgress?(phase: 'receiving' | 'resolving', done: number, total: number): void;
}

export interface IndexedPack {
  /** SHA-1 trailer of the (possibly completed) pack: its name. */
  checksum: ObjectId;
  objectCount: number;
  /** Objects appended to complete a thin pack. */
  appendedBases: number;
  entries: PackIndexEntry[];
  /** The `.idx` v2 bytes. */
  idx: Buffer;
  /** Size of the pack file after completion. */
  packSize: number;
}

/**
 * Indexes a pack spooled at `packPath` (verifying its trailer, every entry and every
 * delta), reading it with bounded memory. A thin pack is completed in place: missing
 * ref-delta bases are appended as whole objects and the header count and trailer rewritten.
 * Throws PackFormatError (or the caller's errors) and leaves the file unusable on failure.
 */
export declare function indexPack(packPath: string, options: IndexPackOptions): Promise<IndexedPack>;
