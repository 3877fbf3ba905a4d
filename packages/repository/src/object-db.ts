import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { constants as zlibConstants, inflate, inflateSync } from 'node:zlib';
import {
  GIT_MAX_DELTA_DEPTH,
  PackIndex,
  applyDelta,
  isObjectId,
  parseEntryHeader,
  type GitObject,
  type ObjectId,
  type ObjectType,
  type PackEntryHeader,
} from '@gitfleet/git-format';
import type { BlobStore, KVStore } from '@gitfleet/storage';
import type { BlockCache } from './block-cache.js';
import { sharedDeltaBaseCache, type DeltaBaseCache } from './delta-base-cache.js';
import { idxBlobKey, packBlobKey, packKey, repositoryScope, type PackRecord } from './keys.js';
import { sharedPackIndexCache, type PackIndexCache } from './pack-index-cache.js';
import { PackSet, type PackInfo } from './pack-set.js';

export type { PackInfo } from './pack-set.js';

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
  /**
   * The object, inflated and delta-resolved; undefined when absent. Its id is not re-hashed on
   * read (as in git, only fsck does): packs are verified when they are indexed on push.
   * The returned data may be shared with a cache: treat it as read-only.
   */
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
  /** The repository's packs, newest first (whole-pack reuse, enumerating every object). */
  packs(): Promise<readonly PackInfo[]>;
  /** The parsed index of one of the repository's packs. */
  packIndex(pack: string): Promise<PackIndex>;
}

/** Longest entry header: a 10-byte type/size varint plus a 20-byte ref-delta base id. */
const MAX_ENTRY_HEADER = 32;
/** Entries larger than this are read straight from the store: they would only flush the block cache. */
const LARGE_ENTRY_BYTES = 4 * 1024 * 1024;
/** Above this, inflate off the event loop. */
const ASYNC_INFLATE_BYTES = 64 * 1024;
/** Deflated bytes read to learn a delta's target size; a longer first zlib block means a full inflate. */
const DELTA_HEADER_PROBE = 256;
/** No pack git writes, nor one receive-pack accepts, has a longer chain; a longer one is a cycle of ref-deltas. */
const MAX_DELTA_CHAIN = GIT_MAX_DELTA_DEPTH;

const inflateAsync = promisify(inflate);

interface Located {
  pack: PackInfo;
  index: PackIndex;
  offset: number;
}

/** The stores and caches a PackObjectDB reads through: the pack part of a repository's Stores. */
export interface PackStores {
  blobs: BlobStore;
  kv: KVStore;
  cache: BlockCache;
  /** Parsed `.idx` files; when absent, a process-wide 256 MiB cache (sharedPackIndexCache). */
  indexes?: PackIndexCache;
  /** Resolved delta bases; when absent, a process-wide 64 MiB cache (sharedDeltaBaseCache). */
  deltaBases?: DeltaBaseCache;
}

export class PackObjectDB implements ObjectDB {
  private readonly blobs: BlobStore;
  private readonly kv: KVStore;
  private readonly cache: BlockCache;
  private readonly indexes: PackIndexCache;
  private readonly deltaBases: DeltaBaseCache;
  private readonly scope: string;
  private readonly packSet: PackSet;

  constructor(
    private readonly repositoryId: string,
    stores: PackStores,
  ) {
    this.blobs = stores.blobs;
    this.kv = stores.kv;
    this.cache = stores.cache;
    this.indexes = stores.indexes ?? sharedPackIndexCache;
    this.deltaBases = stores.deltaBases ?? sharedDeltaBaseCache;
    this.scope = repositoryScope(repositoryId);
    this.packSet = new PackSet(this.kv, this.scope);
  }

  async has(oid: ObjectId): Promise<boolean> {
    return (await this.find(oid)) !== undefined;
  }

  async read(oid: ObjectId): Promise<GitObject | undefined> {
    const found = this.findLoaded(oid) ?? (await this.find(oid));
    return found && this.resolve(found, oid);
  }

  async header(oid: ObjectId): Promise<{ type: ObjectType; size: number } | undefined> {
    const found = await this.find(oid);
    if (!found) return undefined;
    let size: number | undefined;
    let current = found;
    for (let depth = 0; ; depth++) {
      if (depth > MAX_DELTA_CHAIN) throw chainTooLong(oid);
      const cached = this.deltaBases.get(current.pack.checksum, current.offset);
      if (cached) return { type: cached.type, size: size ?? cached.data.length };
      const end = current.index.entryEnd(current.offset);
      const header = await this.readEntryHeader(current.pack.checksum, current.offset, end);
      if (header.kind === 'object') return { type: header.type, size: size ?? header.size };
      size ??= await this.deltaTargetSize(current, header, end);
      current = await this.deltaBase(current, header, oid);
    }
  }

  async locate(oid: ObjectId): Promise<StoredEntry | undefined> {
    const found = await this.find(oid);
    if (!found) return undefined;
    const { pack, index, offset } = found;
    const end = index.entryEnd(offset);
    const header = await this.readEntryHeader(pack.checksum, offset, end);
    const entry: StoredEntry = { oid, pack: pack.checksum, offset, end, header };
    if (header.kind === 'ofs-delta') entry.baseOid = this.ofsDeltaBaseOid(found, header.baseOffset);
    else if (header.kind === 'ref-delta') entry.baseOid = header.baseOid;
    return entry;
  }

  readDeflated(entry: StoredEntry): Promise<Buffer> {
    return this.readPackRange(entry.pack, entry.offset + entry.header.headerLength, entry.end);
  }

  async streamPack(pack: string, start: number, end: number): Promise<Readable> {
    const stream = await this.blobs.getStream(packBlobKey(this.repositoryId, pack), { start, end });
    if (!stream) throw new Error(`repository ${this.repositoryId}: pack ${pack} is missing from the blob store`);
    return stream;
  }

  async addPack(packPath: string, packSize: number, idx: Buffer, checksum: ObjectId): Promise<void> {
    if (!isObjectId(checksum)) throw new Error(`addPack: pack checksum ${JSON.stringify(checksum)} is not an object id`);
    const index = PackIndex.parse(idx, packSize);
    if (index.packChecksum !== checksum) {
      throw new Error(`addPack: idx describes pack ${index.packChecksum}, not ${checksum}`);
    }
    await verifyPackFile(packPath, packSize, checksum);

    // Durable pack and idx first, registry entry second: whoever sees the pack registered
    // (and every ref that moves after it) can read it.
    await this.blobs.putIfAbsent(packBlobKey(this.repositoryId, checksum), {
      size: packSize,
      open: () => createReadStream(packPath),
      path: packPath,
    });
    await this.blobs.putIfAbsent(idxBlobKey(this.repositoryId, checksum), idx);
    const record: PackRecord = { size: packSize, objects: index.objectCount, createdAt: new Date().toISOString() };
    // A conflict means the pack is registered already: adding it again is a no-op.
    await this.kv.compareAndSwap(this.scope, [{ key: packKey(checksum), expect: null, value: JSON.stringify(record) }], 'all');

    this.indexes.put(checksum, index);
    this.packSet.add({ checksum, ...record });
  }

  refresh(): Promise<void> {
    return this.packSet.refreshAfter(this.packSet.generation);
  }

  packs(): Promise<readonly PackInfo[]> {
    return this.packSet.list();
  }

  async packIndex(pack: string): Promise<PackIndex> {
    const info = (await this.packSet.list()).find((p) => p.checksum === pack);
    if (!info) throw new Error(`repository ${this.repositoryId}: no pack ${pack} is registered`);
    return this.loadIndex(info);
  }

  /**
   * Looks `oid` up in every known pack; on a miss, re-reads the pack registry once and retries:
   * another process may have just added the pack (packs are registered before refs move, so an
   * object named by a ref is always found after one refresh).
   */
  private async find(oid: ObjectId): Promise<Located | undefined> {
    const generation = this.packSet.generation;
    const found = await this.findIn(await this.packSet.list(), oid);
    if (found) return found;
    await this.packSet.refreshAfter(generation);
    return this.findIn(await this.packSet.list(), oid);
  }

  /**
   * The lookup without an await, when the registry has been read and every index is cached
   * (the steady state of a walk); undefined sends the caller down the full path, which also
   * handles misses.
   */
  private findLoaded(oid: ObjectId): Located | undefined {
    const packs = this.packSet.listed();
    if (packs === undefined) return undefined;
    for (const pack of packs) {
      const index = this.indexes.peek(pack.checksum);
      if (index === undefined) return undefined;
      const offset = index.find(oid);
      if (offset !== undefined) return { pack, index, offset };
    }
    return undefined;
  }

  private async findIn(packs: readonly PackInfo[], oid: ObjectId): Promise<Located | undefined> {
    for (const pack of packs) {
      const index = this.indexes.peek(pack.checksum) ?? (await this.loadIndex(pack));
      const offset = index.find(oid);
      if (offset !== undefined) return { pack, index, offset };
    }
    return undefined;
  }

  private loadIndex(pack: PackInfo): Promise<PackIndex> {
    return this.indexes.get(pack.checksum, async () => {
      const key = idxBlobKey(this.repositoryId, pack.checksum);
      const bytes = await this.blobs.get(key);
      if (!bytes) throw new Error(`repository ${this.repositoryId}: pack ${pack.checksum} is registered but ${key} is missing`);
      const index = PackIndex.parse(bytes, pack.size);
      if (index.packChecksum !== pack.checksum) {
        throw new Error(`${key}: idx describes pack ${index.packChecksum}, not ${pack.checksum}`);
      }
      return index;
    });
  }

  /**
   * Inflates the entry and applies its delta chain, base first, without recursion.
   *
   * What bounds a read: receive-pack is the only writer of packs, and it indexes each one
   * within the push's limits (protocol's PackLimits): chains at most maxDeltaDepth deep (never
   * over GIT_MAX_DELTA_DEPTH, the deepest git writes) and everything the pack expands to within
   * its inflated-bytes budget, every link of a chain being an object of that same pack. So a
   * read applies at most MAX_DELTA_CHAIN deltas and produces no more than the push that stored
   * them was allowed to. Memory stays at one base, one delta and one result whatever the depth:
   * the chain is walked by entry headers, and each delta is inflated only when it is applied.
   */
  private async resolve(start: Located, oid: ObjectId): Promise<GitObject> {
    const chain: Array<{ at: Located; header: PackEntryHeader; end: number }> = [];
    let current = start;
    let base: GitObject;
    for (;;) {
      if (chain.length > MAX_DELTA_CHAIN) throw chainTooLong(oid);
      const cached = this.deltaBases.get(current.pack.checksum, current.offset);
      if (cached) {
        base = cached;
        break;
      }
      const { pack, index, offset } = current;
      const end = index.entryEnd(offset);
      const raw = await this.readPackRange(pack.checksum, offset, end);
      const header = parseEntryHeader(raw, 0, offset);
      if (header.kind === 'object') {
        base = { type: header.type, data: await inflateEntry(raw.subarray(header.headerLength), header.size, `pack ${pack.checksum} offset ${offset}`) };
        if (chain.length > 0) this.deltaBases.set(pack.checksum, offset, base);
        break;
      }
      chain.push({ at: current, header, end });
      current = await this.deltaBase(current, header, oid);
    }
    for (let i = chain.length - 1; i >= 0; i--) {
      const { at, header, end } = chain[i];
      const context = `pack ${at.pack.checksum} offset ${at.offset}`;
      const delta = await inflateEntry(await this.readPackRange(at.pack.checksum, at.offset + header.headerLength, end), header.size, context);
      let data: Buffer;
      try {
        data = applyDelta(base.data, delta);
      } catch (error) {
        throw new Error(`object ${oid}: delta at ${context}: ${(error as Error).message}`, { cause: error });
      }
      base = { type: base.type, data };
      // Every link but the last was some delta's base. The object asked for is kept too: in
      // a delta chain, git makes older versions deltas of newer ones, and walks go from new
      // to old, so the object just read is the base of the next one likely to be asked for.
      this.deltaBases.set(at.pack.checksum, at.offset, base);
    }
    return base;
  }

  private async deltaBase(current: Located, header: PackEntryHeader, oid: ObjectId): Promise<Located> {
    if (header.kind === 'ofs-delta') return { ...current, offset: header.baseOffset };
    if (header.kind !== 'ref-delta') throw new Error(`internal: ${header.kind} has no delta base`);
    const base = await this.find(header.baseOid);
    if (!base) {
      throw new Error(`object ${oid}: delta base ${header.baseOid} (pack ${current.pack.checksum} offset ${current.offset}) is missing`);
    }
    return base;
  }

  private ofsDeltaBaseOid(entry: Located, baseOffset: number): ObjectId {
    const baseOid = entry.index.oidAt(baseOffset);
    if (baseOid === undefined) {
      throw new Error(`pack ${entry.pack.checksum}: ofs-delta at offset ${entry.offset} points at ${baseOffset}, where no entry starts`);
    }
    return baseOid;
  }

  private async readEntryHeader(pack: string, offset: number, end: number): Promise<PackEntryHeader> {
    const bytes = await this.readPackRange(pack, offset, Math.min(end, offset + MAX_ENTRY_HEADER));
    return parseEntryHeader(bytes, 0, offset);
  }

  /** A delta's target size from the first bytes of its inflated data; a full inflate only if they fall short. */
  private async deltaTargetSize(entry: Located, header: PackEntryHeader, end: number): Promise<number> {
    const dataStart = entry.offset + header.headerLength;
    const context = `pack ${entry.pack.checksum} offset ${entry.offset}`;
    const probe = await this.readPackRange(entry.pack.checksum, dataStart, Math.min(end, dataStart + DELTA_HEADER_PROBE));
    let sizes: { targetSize: number } | undefined;
    try {
      sizes = readDeltaSizes(inflateSync(probe, { finishFlush: zlibConstants.Z_SYNC_FLUSH }));
    } catch {
      // A probe cut inside a zlib block may not inflate at all; the full entry will tell.
    }
    if (!sizes) {
      const full = await inflateEntry(await this.readPackRange(entry.pack.checksum, dataStart, end), header.size, context);
      sizes = readDeltaSizes(full);
      if (!sizes) throw new Error(`${context}: delta too short for its header`);
    }
    return sizes.targetSize;
  }

  private async readPackRange(pack: string, start: number, end: number): Promise<Buffer> {
    const key = packBlobKey(this.repositoryId, pack);
    if (end - start <= LARGE_ENTRY_BYTES) return this.cache.read(this.blobs, key, start, end);
    const bytes = await this.blobs.get(key, { start, end });
    if (!bytes) throw new Error(`repository ${this.repositoryId}: pack ${pack} is missing from the blob store`);
    if (bytes.length !== end - start) throw new Error(`${key}: read [${start}, ${end}) returned ${bytes.length} bytes`);
    return bytes;
  }
}

function chainTooLong(oid: ObjectId): Error {
  return new Error(`object ${oid}: delta chain longer than ${MAX_DELTA_CHAIN}, deeper than git writes (a cycle of ref-deltas?)`);
}

/** The two sizes that open a delta (gitformat-pack), or undefined when `bytes` ends first. */
function readDeltaSizes(bytes: Uint8Array): { baseSize: number; targetSize: number } | undefined {
  let at = 0;
  const varint = (): number | undefined => {
    let value = 0;
    let multiplier = 1;
    for (;;) {
      if (at >= bytes.length) return undefined;
      const byte = bytes[at++];
      value += (byte & 0x7f) * multiplier;
      multiplier *= 128;
      if ((byte & 0x80) === 0) return value;
    }
  };
  const baseSize = varint();
  const targetSize = varint();
  return baseSize === undefined || targetSize === undefined ? undefined : { baseSize, targetSize };
}

async function inflateEntry(deflated: Buffer, size: number, context: string): Promise<Buffer> {
  // The declared size bounds the output: a corrupt stream cannot balloon in memory.
  const options = { maxOutputLength: Math.max(size, 1) };
  let data: Buffer;
  try {
    data = deflated.length > ASYNC_INFLATE_BYTES ? await inflateAsync(deflated, options) : inflateSync(deflated, options);
  } catch (error) {
    throw new Error(`${context}: entry data does not inflate: ${(error as Error).message}`, { cause: error });
  }
  if (data.length !== size) throw new Error(`${context}: entry inflates to ${data.length} bytes, header says ${size}`);
  return data;
}

/** The file must be the pack named `checksum`: its size and SHA-1 trailer say so cheaply. */
async function verifyPackFile(packPath: string, packSize: number, checksum: ObjectId): Promise<void> {
  const file = await open(packPath, 'r');
  try {
    const { size } = await file.stat();
    if (size !== packSize) throw new Error(`addPack: ${packPath} has ${size} bytes, expected ${packSize}`);
    if (size < 32) throw new Error(`addPack: ${packPath} is too short to be a pack (${size} bytes)`);
    const trailer = Buffer.alloc(20);
    await file.read(trailer, 0, 20, size - 20);
    if (trailer.toString('hex') !== checksum) {
      throw new Error(`addPack: ${packPath} ends with checksum ${trailer.toString('hex')}, expected ${checksum}`);
    }
  } finally {
    await file.close();
  }
}
