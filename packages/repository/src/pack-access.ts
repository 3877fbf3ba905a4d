import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import {
  MAX_ENTRY_HEADER_LENGTH,
  type CommitGraph,
  PackIndex,
  isObjectId,
  packIndexFromTables,
  packIndexSize,
  packIndexTables,
  parseEntryHeader,
  type ObjectId,
  type PackEntryHeader,
} from '@gitfleet/git-format';
import { hasDirectReadUrls, type BlobStore, type KVStore } from '@gitfleet/storage';
import { BlobRangeUnavailable, type BlockCache } from './block-cache.js';
import { CorruptPackError, MissingPackError } from './errors.js';
import {
  INLINE_IDX_MAX_OBJECTS,
  addingKey,
  deletingKey,
  idxBlobKey,
  joinedPackBlobKey,
  packBlobKey,
  packBytesBlobKey,
  packKey,
  repositoryScope,
  sidecarBlobKey,
  type PackRecord,
} from './keys.js';
import { sharedPackIndexCache, type PackIndexCache } from './pack-index-cache.js';
import { sharedPackSet, type PackInfo, type PackSet, type PackSetOptions } from './pack-set.js';
import type { DeltaBaseCache } from './delta-base-cache.js';
import { COMMIT_GRAPH_SIDECAR, sharedCommitGraphCache, type CommitGraphCache } from './commit-graph-cache.js';
import {
  REPACK_TIPS_SIDECAR,
  sharedRepackTipsCache,
  type RepackLayers,
  type RepackTips,
  type RepackTipsCache,
} from './repack-tips-cache.js';
import { sharedReencodedEntryCache, type ReencodedEntryCache } from './pack-output/reencoded-cache.js';
import { sharedEntryTypeMemo } from './entry-type-memo.js';
import { sharedPackBitmapsCache, type PackBitmaps, type PackBitmapsCache, type SidecarWarning } from './bitmaps/pack-bitmaps.js';

export { DEFAULT_REGISTRY_MAX_AGE_MS, type PackInfo, type PackSetOptions } from './pack-set.js';

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

/** An entry found through a pack's index, before any of its bytes are read. */
export interface PackLocation {
  pack: PackInfo;
  index: PackIndex;
  offset: number;
}

/** Entries larger than this are read straight from the store: they would only flush the block cache. */
const LARGE_ENTRY_BYTES = 4 * 1024 * 1024;

/** A complete pack to store: a local file's path, or its bytes (a small push, never spooled to a file). */
export type PackData = string | Buffer;

/** The stores and caches a repository's packs are read through (the pack part of its Stores). */
export interface PackStores {
  blobs: BlobStore;
  kv: KVStore;
  cache: BlockCache;
  /** Parsed `.idx` files; when absent, a process-wide 256 MiB cache (sharedPackIndexCache). */
  indexes?: PackIndexCache;
  /** Resolved delta bases; when absent, a process-wide 64 MiB cache (sharedDeltaBaseCache). */
  deltaBases?: DeltaBaseCache;
  /** Deltas re-encoded whole for clients that lack their base; when absent, a process-wide 64 MiB cache. */
  reencodedEntries?: ReencodedEntryCache;
  /** How long a view of a pack registry is used before it is read again (default 30 s). */
  registry?: PackSetOptions;
  /** Loaded reachability bitmaps; when absent, a process-wide cache of 8 packs' (sharedPackBitmapsCache). */
  bitmaps?: PackBitmapsCache;
  /** Loaded tips of full repacks; when absent, a process-wide 16 MiB cache (sharedRepackTipsCache). */
  repackTips?: RepackTipsCache;
  /** Loaded commit-graphs; when absent, a process-wide cache (sharedCommitGraphCache). */
  commitGraphs?: CommitGraphCache;
  /**
   * Told when what a pack has beside its idx cannot be used: a bitmap (reads then walk) or the idx
   * in its record (the stored one is read); by default a process warning.
   */
  onSidecarWarning?: SidecarWarning;
  /**
   * Whether a pack received in memory is stored as one blob with its idx (layout 'joined'; the
   * default). Off while servers of a version that cannot read that layout share the stores.
   */
  joinPacks?: boolean;
}

/** How long add() waits for the collector to finish deleting unregistered blobs of the same pack. */
const COLLECTOR_WAIT_ATTEMPTS = 40;
const COLLECTOR_WAIT_MS = 250;

/**
 * The packs of one repository, as stored: the registry of immutable packs named by their
 * checksum, their indexes, and their raw bytes (entries and spans, for reading objects and for
 * copying entries into outgoing packs). Objects by id are read through ObjectReader.
 */
export class PackAccess {
  private readonly blobs: BlobStore;
  private readonly kv: KVStore;
  private readonly cache: BlockCache;
  private readonly indexes: PackIndexCache;
  private readonly scope: string;
  private readonly packSet: PackSet;
  private readonly bitmapCache: PackBitmapsCache;
  private readonly repackTipsCache: RepackTipsCache;
  private readonly commitGraphCache: CommitGraphCache;
  private readonly warn: SidecarWarning;
  private readonly now: () => number;
  private readonly joinPacks: boolean;
  /** Shared by the outgoing packs of every repository of the process (see ReencodedEntryCache). */
  readonly reencodedEntries: ReencodedEntryCache;

  constructor(
    private readonly repositoryId: string,
    stores: PackStores,
  ) {
    this.blobs = stores.blobs;
    this.kv = stores.kv;
    this.cache = stores.cache;
    this.indexes = stores.indexes ?? sharedPackIndexCache;
    this.scope = repositoryScope(repositoryId);
    this.packSet = sharedPackSet(stores, this.kv, this.scope, stores.registry);
    this.now = stores.registry?.now ?? Date.now;
    this.bitmapCache = stores.bitmaps ?? sharedPackBitmapsCache;
    this.repackTipsCache = stores.repackTips ?? sharedRepackTipsCache;
    this.commitGraphCache = stores.commitGraphs ?? sharedCommitGraphCache;
    this.reencodedEntries = stores.reencodedEntries ?? sharedReencodedEntryCache;
    this.warn = stores.onSidecarWarning ?? ((message) => process.emitWarning(message, 'GitfleetSidecarWarning'));
    this.joinPacks = stores.joinPacks ?? true;
  }

  /**
   * The reachability bitmaps of the repository's repacked pack, the newest active pack whose record
   * names a `.bitmap`; undefined when there is none or it cannot be used (onSidecarWarning hears
   * why), and reads then walk the history instead.
   */
  async bitmaps(): Promise<PackBitmaps | undefined> {
    const pack = await this.newestPackWith('bitmap');
    if (!pack) return undefined;
    return this.bitmapCache.get(this.blobs, this.repositoryId, await this.loadIndex(pack), this.warn);
  }

  /**
   * The layers of the repository's latest full repack: the bitmapped pack with the tips it was
   * written for, and the newest active rest pack whose tips name it as their clone pack;
   * undefined when neither is recorded or usable (onSidecarWarning hears why).
   */
  async repackLayers(): Promise<RepackLayers | undefined> {
    const clone = await this.newestPackWith('bitmap');
    if (!clone) return undefined;
    const cloneTips = clone.sidecars?.includes(REPACK_TIPS_SIDECAR) ? await this.repackTips(clone) : undefined;
    const restPack = (await this.packSet.list()).find(
      (info) => info.kind === 'repack-rest' && info.sidecars?.includes(REPACK_TIPS_SIDECAR),
    );
    const restTips = restPack && (await this.repackTips(restPack));
    const layers: RepackLayers = {
      clonePack: clone.checksum,
      cloneTips: cloneTips?.clonePack === clone.checksum ? cloneTips.tips : undefined,
      rest: restPack && restTips?.clonePack === clone.checksum ? { tips: restTips.tips, index: () => this.loadIndex(restPack) } : undefined,
    };
    return layers.cloneTips || layers.rest ? layers : undefined;
  }

  private repackTips(pack: PackInfo): Promise<RepackTips | undefined> {
    return this.repackTipsCache.get(this.blobs, this.repositoryId, { packChecksum: pack.checksum, objectCount: pack.objects }, this.warn);
  }

  /**
   * The commit-graph of the repository's repacked pack (its commits: tree, parents, time, generation),
   * the newest active pack whose record names one; undefined when there is none or it cannot be used
   * (onSidecarWarning hears why), and commits are then read from the packs.
   */
  async commitGraph(): Promise<CommitGraph | undefined> {
    const pack = await this.newestPackWith(COMMIT_GRAPH_SIDECAR);
    if (!pack) return undefined;
    try {
      return await this.commitGraphCache.get(this.blobs, this.repositoryId, await this.loadIndex(pack), this.warn);
    } catch (error) {
      this.warn(
        `repository ${this.repositoryId}, pack ${pack.checksum}: commit-graph not loaded, reading commits instead: ${(error as Error).message}`,
      );
      return undefined;
    }
  }

  /** The repository's active packs, newest first (whole-pack reuse, enumerating every object); retired packs are left out. */
  list(): Promise<readonly PackInfo[]> {
    return this.packSet.list();
  }

  /** The retired packs the registry view knows: maintenance replaced them; the collector deletes them after the grace period. */
  retired(): Promise<readonly PackInfo[]> {
    return this.packSet.retired();
  }

  /** Re-reads the pack registry (another process may have added packs). */
  refresh(): Promise<void> {
    return this.packSet.refreshAfter(this.packSet.generation);
  }

  /** The registry's record of one of the repository's packs, active or retired (still readable during its grace period). */
  async info(pack: string): Promise<PackInfo | undefined> {
    await this.packSet.list();
    return this.packSet.known(pack);
  }

  /** The parsed index of one of the repository's packs; a retired pack still has one during its grace period. */
  async index(pack: string): Promise<PackIndex> {
    const info = await this.info(pack);
    if (!info) throw new MissingPackError(pack, `repository ${this.repositoryId}: no pack ${pack} is registered`);
    return this.loadIndex(info);
  }

  /**
   * Runs a read of objects; when it fails because a pack is gone, re-reads the registry and runs
   * it once more. The view it read through may be older than a change of the pack's registration:
   * maintenance retired it and the collector deleted it after the grace period (the objects are
   * in the packs that replaced it), or it was collected and pushed again, maybe in the other
   * layout. A pack still missing after the refresh fails the second run. The one place reads
   * recover from collection.
   */
  retryingRetired<T>(read: () => Promise<T>): Promise<T> {
    // No async wrapper: this sits on every object read.
    return read().catch(async (error: unknown) => {
      if (!(error instanceof MissingPackError)) throw error;
      await this.packSet.refreshAfter(this.packSet.generation);
      return read();
    });
  }

  /**
   * Looks `oid` up in every known pack; on a miss, re-reads the pack registry once and retries:
   * another process may have just added the pack (packs are registered before refs move, so an
   * object named by a ref is always found after one refresh).
   */
  async lookup(oid: ObjectId): Promise<PackLocation | undefined> {
    const generation = this.packSet.generation;
    const found = await this.lookupIn(await this.packSet.list(), oid);
    if (found) return found;
    await this.packSet.refreshAfter(generation);
    return this.lookupIn(await this.packSet.list(), oid);
  }

  /**
   * The lookup without an await, when the registry has been read and every index is cached
   * (the steady state of a walk); undefined sends the caller down lookup(), which also
   * handles misses.
   */
  lookupLoaded(oid: ObjectId): PackLocation | undefined {
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

  /** The stored entry of `oid`, header parsed and delta base named; undefined when absent. */
  async locate(oid: ObjectId): Promise<StoredEntry | undefined> {
    const found = await this.lookup(oid);
    if (!found) return undefined;
    const { pack, index, offset } = found;
    const end = index.entryEnd(offset);
    const header = await this.entryHeader(found);
    const entry: StoredEntry = { oid, pack: pack.checksum, offset, end, header };
    if (header.kind === 'ofs-delta') entry.baseOid = this.ofsDeltaBaseOid(found, header.baseOffset);
    else if (header.kind === 'ref-delta') entry.baseOid = header.baseOid;
    return entry;
  }

  /** The deflated data of a stored entry (the bytes after its header). */
  readDeflated(entry: StoredEntry): Promise<Buffer> {
    return this.read(entry.pack, entry.offset + entry.header.headerLength, entry.end);
  }

  /** The header of the entry at `location`. */
  async entryHeader(location: PackLocation): Promise<PackEntryHeader> {
    const { pack, index, offset } = location;
    const end = index.entryEnd(offset);
    const bytes = await this.read(pack.checksum, offset, Math.min(end, offset + MAX_ENTRY_HEADER_LENGTH));
    return parseEntryHeader(bytes, 0, offset);
  }

  /** Bytes [start, end) of a stored pack: through the block cache, or straight from the store when large. */
  async read(pack: string, start: number, end: number): Promise<Buffer> {
    const key = this.bytesKey(pack);
    if (end - start <= LARGE_ENTRY_BYTES) {
      try {
        return await this.cache.read(this.blobs, key, start, end);
      } catch (error) {
        if (!(error instanceof BlobRangeUnavailable)) throw error;
        if (error.blobAbsent) throw this.missingPack(pack);
        throw new CorruptPackError(pack, error.message, { cause: error });
      }
    }
    const bytes = await this.blobs.get(key, { start, end });
    if (!bytes) throw this.missingPack(pack);
    if (bytes.length !== end - start) throw new CorruptPackError(pack, `${key}: read [${start}, ${end}) returned ${bytes.length} bytes`);
    return bytes;
  }

  /** Streams [start, end) of a stored pack (large sequential copies around the cache). */
  async stream(pack: string, start: number, end: number): Promise<Readable> {
    const stream = await this.blobs.getStream(this.bytesKey(pack), { start, end });
    if (!stream) throw this.missingPack(pack);
    return stream;
  }

  /**
   * A URL clients can download a stored pack from without this process (a presigned URL of
   * object storage), valid for `expiresInSeconds`; undefined when the blob store makes none.
   */
  async directReadUrl(pack: string, expiresInSeconds: number): Promise<string | undefined> {
    // A joined blob holds more than the pack: a client could not index what it downloads.
    if (!hasDirectReadUrls(this.blobs) || this.packSet.known(pack)?.layout === 'joined') return undefined;
    return this.blobs.directReadUrl(packBlobKey(this.repositoryId, pack), { expiresInSeconds });
  }

  /**
   * Stores a complete, verified pack (a local file, or its bytes) and its idx, then registers it.
   * Resolves only when both are durable and registered; idempotent for the same pack. Bytes are
   * stored with their idx as one blob (layout 'joined'), unless joinPacks is off: one write to the
   * store per push.
   * `typeCodes`, when the caller indexed the pack, are its entries' types in pack order.
   *
   * THE ORDERING that keeps a registered pack's blobs from being deleted (the collector's side
   * is in maintenance/collector.ts):
   *
   * 1. Claim: one CAS writes `blobs:adding:<checksum>:<token>` (a token of this call's own) if
   *    neither `pack:<checksum>` nor the collector's mark `blobs:deleting:<checksum>` exists.
   * 2. Store: putIfAbsent of the pack's blobs, a .pack and an .idx or one joined .packidx (a
   *    no-op for blobs already there).
   * 3. Register — THE COMMIT POINT: one CAS writes `pack:<checksum>` and removes the claim,
   *    expecting the claim as written in 1.
   *
   * The collector writes its mark only in a CAS that requires no claim of the pack to exist (it
   * removes claims older than the grace period first), deletes blobs only while its mark stands,
   * and removes the mark only after the deletions. The claim is present at 3 only if it stood
   * since 1 (its key is this call's alone), so no mark was written between 1 and 3, and none
   * stood at 1: no deletion of the pack's blobs overlaps 1–3, and the blobs stored or found at 2
   * are there when 3 registers them. Once registered, a pack's blobs are deleted only after
   * maintenance retired it and the grace period passed. (A collector that lost its lease stops
   * deleting before the lease expires: MaintenanceLease.assertHeldFor.)
   *
   * A claim's age only decides when the collector may remove it, never whether a pack with
   * missing blobs gets registered: a push slower than the grace period loses its claim, its
   * register CAS fails, and it claims and stores again. Claims of concurrent pushes of the same
   * pack are separate keys, so a claim left by a crashed push never blocks a push, only the
   * collection of those blobs until it is a grace period old.
   *
   * A crash after 1 or 2 leaves a claim and perhaps blobs, no record: the collector removes the
   * claim and, a grace period later, the blobs. A crash after 3 leaves a registered pack.
   */
  async add(pack: PackData, packSize: number, idx: Buffer, checksum: ObjectId, typeCodes?: Uint8Array): Promise<void> {
    const index = await verifyPack(pack, packSize, idx, checksum);
    // The types its indexing found: the next push naming these objects need not read their headers.
    if (typeCodes) sharedEntryTypeMemo.learnPack(index, typeCodes);
    const joined = this.joinPacks ? joinedBlob(pack, idx, index) : undefined;
    for (let attempt = 1; ; attempt++) {
      const claim = { key: addingKey(checksum, randomUUID()), value: new Date(this.now()).toISOString() };
      const { conflicts: unclaimed } = await this.kv.compareAndSwap(
        this.scope,
        [{ ...claim, expect: null, requireAbsent: { keys: [packKey(checksum), deletingKey(checksum)] } }],
        'all',
      );
      if (unclaimed.length === 0) {
        const registered = await this.storeAndRegister(pack, packSize, idx, index, claim, joined);
        if (registered) return;
      }
      // Registered already: by another push (adding it again is a no-op), or retired by
      // maintenance, whose published packs hold every one of its objects.
      if ((await this.kv.get(this.scope, packKey(checksum))) !== undefined) return this.refresh();
      // Otherwise the collector is deleting stale blobs of the same pack, or removed this call's
      // claim as too old: claim again once the deletion is over, and store the blobs again.
      if (attempt === COLLECTOR_WAIT_ATTEMPTS) {
        throw new Error(
          `repository ${this.repositoryId}: pack ${checksum} cannot be registered: the collector has been deleting stale blobs of the same pack for ${(COLLECTOR_WAIT_ATTEMPTS * COLLECTOR_WAIT_MS) / 1000} s`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, COLLECTOR_WAIT_MS));
    }
  }

  /**
   * Makes a complete, verified pack and its idx durable in the blob store without registering
   * it (maintenance publishes its packs itself, under its lease); returns the parsed idx.
   */
  async store(pack: PackData, packSize: number, idx: Buffer, checksum: ObjectId): Promise<PackIndex> {
    const index = await verifyPack(pack, packSize, idx, checksum);
    await this.putBlobs(pack, packSize, idx, checksum);
    return index;
  }

  /**
   * Steps 2 and 3 of add() under `claim`, storing `joined` (layout 'joined') when given, else a
   * `.pack` and an `.idx`; false when the claim was lost or the pack is registered already.
   */
  private async storeAndRegister(
    pack: PackData,
    packSize: number,
    idx: Buffer,
    index: PackIndex,
    claim: { key: string; value: string },
    joined: Buffer | undefined,
  ): Promise<boolean> {
    const checksum = index.packChecksum;
    // Not registered: the claim is given up, so that it does not hold the collector off for a grace period.
    const release = () => this.kv.compareAndSwap(this.scope, [{ ...claim, expect: claim.value, value: null }], 'all');
    try {
      if (joined) await this.blobs.putIfAbsent(joinedPackBlobKey(this.repositoryId, checksum), joined);
      else await this.putBlobs(pack, packSize, idx, checksum);
    } catch (error) {
      // The store's error is the one to report; a claim left behind expires.
      await release().catch(() => undefined);
      throw error;
    }
    const record: PackRecord = {
      size: packSize,
      objects: index.objectCount,
      createdAt: new Date(this.now()).toISOString(),
      kind: 'receive',
    };
    if (joined) record.layout = 'joined';
    if (index.objectCount <= INLINE_IDX_MAX_OBJECTS && withoutLargeOffsets(idx, index)) {
      record.idxTables = packIndexTables(idx).toString('base64');
    }
    const { conflicts } = await this.kv.compareAndSwap(
      this.scope,
      [
        { key: packKey(checksum), expect: null, value: JSON.stringify(record) },
        { ...claim, expect: claim.value, value: null },
      ],
      'all',
    );
    if (conflicts.length > 0) {
      await release();
      return false;
    }
    this.indexes.put(checksum, index);
    // What reads a pack first is what follows its push (webhooks, fetches of the new commits,
    // maintenance merging it): its bytes, in memory now, spare them a get.
    if (joined) this.cache.seed(this.blobs, joinedPackBlobKey(this.repositoryId, checksum), joined);
    else if (Buffer.isBuffer(pack)) this.cache.seed(this.blobs, packBlobKey(this.repositoryId, checksum), pack);
    this.packSet.add({ checksum, ...record });
    return true;
  }

  /** Both blobs at once: their writes and syncs overlap (a filesystem store syncs their shared directory once for both). */
  private async putBlobs(pack: PackData, packSize: number, idx: Buffer, checksum: ObjectId): Promise<void> {
    const body = Buffer.isBuffer(pack) ? pack : { size: packSize, open: () => createReadStream(pack), path: pack };
    const puts = await Promise.allSettled([
      this.blobs.putIfAbsent(packBlobKey(this.repositoryId, checksum), body),
      this.blobs.putIfAbsent(idxBlobKey(this.repositoryId, checksum), idx),
    ]);
    for (const put of puts) if (put.status === 'rejected') throw put.reason;
  }

  /** Stores a sidecar (`.rev`, `.bitmap`) of a pack about to be published; its record names it then. */
  async storeSidecar(checksum: ObjectId, extension: string, bytes: Buffer): Promise<void> {
    await this.blobs.putIfAbsent(sidecarBlobKey(this.repositoryId, checksum, extension), bytes);
  }

  /** The newest active pack whose record names `sidecar`: the repacked pack that serves reads from it. */
  private async newestPackWith(sidecar: string): Promise<PackInfo | undefined> {
    return (await this.packSet.list()).find((info) => info.sidecars?.includes(sidecar));
  }

  private async lookupIn(packs: readonly PackInfo[], oid: ObjectId): Promise<PackLocation | undefined> {
    for (const pack of packs) {
      const index = this.indexes.peek(pack.checksum) ?? (await this.loadIndex(pack));
      const offset = index.find(oid);
      if (offset !== undefined) return { pack, index, offset };
    }
    return undefined;
  }

  private loadIndex(pack: PackInfo): Promise<PackIndex> {
    return this.indexes.get(pack.checksum, async () => {
      const inline = pack.idxTables === undefined ? undefined : this.inlineIdx(pack);
      if (inline) return inline;
      const { key, range } = this.indexPlace(pack);
      const bytes = await this.blobs.get(key, range);
      if (!bytes)
        throw new MissingPackError(
          pack.checksum,
          `repository ${this.repositoryId}: pack ${pack.checksum} is registered but ${key} is missing`,
        );
      if (range && bytes.length !== range.end - range.start) {
        throw new CorruptPackError(pack.checksum, `${key}: its idx should span [${range.start}, ${range.end}), the blob ends sooner`);
      }
      const index = PackIndex.parse(bytes, pack.size);
      if (index.packChecksum !== pack.checksum) {
        throw new CorruptPackError(pack.checksum, `${key}: idx describes pack ${index.packChecksum}, not ${pack.checksum}`);
      }
      return index;
    });
  }

  /**
   * The idx a pack's record carries (PackRecord.idxTables); undefined when it does not parse or
   * check out against its checksum, and the stored idx is read instead (onSidecarWarning hears why).
   */
  private inlineIdx(pack: PackInfo): PackIndex | undefined {
    try {
      // Named by the record's checksum as it is rebuilt, so it describes that pack.
      return PackIndex.parse(packIndexFromTables(Buffer.from(pack.idxTables!, 'base64'), pack.checksum), pack.size);
    } catch (error) {
      this.warn(
        `repository ${this.repositoryId}: the idx in the record of pack ${pack.checksum} is unusable, reading the stored one: ${(error as Error).message}`,
      );
      return undefined;
    }
  }

  /** Where a pack's idx is stored: its own blob, or the bytes after the pack's in a joined blob. */
  private indexPlace(pack: PackInfo): { key: string; range?: { start: number; end: number } } {
    if (pack.layout !== 'joined') return { key: idxBlobKey(this.repositoryId, pack.checksum) };
    const range = { start: pack.size, end: pack.size + packIndexSize(pack.objects) };
    return { key: joinedPackBlobKey(this.repositoryId, pack.checksum), range };
  }

  /**
   * The blob holding a pack's bytes, in the layout the registry view records. A pack the view no
   * longer knows reads as a separate `.pack`: collected, it is missing either way.
   */
  private bytesKey(pack: string): string {
    return packBytesBlobKey(this.repositoryId, pack, this.packSet.known(pack)?.layout);
  }

  /** The id of the ofs-delta base at `baseOffset` of the pack holding `entry`. */
  private ofsDeltaBaseOid(entry: PackLocation, baseOffset: number): ObjectId {
    const baseOid = entry.index.oidAt(baseOffset);
    if (baseOid === undefined) {
      throw new CorruptPackError(
        entry.pack.checksum,
        `pack ${entry.pack.checksum}: ofs-delta at offset ${entry.offset} points at ${baseOffset}, where no entry starts`,
      );
    }
    return baseOid;
  }

  private missingPack(pack: string): MissingPackError {
    return new MissingPackError(pack, `repository ${this.repositoryId}: pack ${pack} is missing from the blob store`);
  }
}

/**
 * The one blob of layout 'joined' for a pack received in memory (the pack's bytes, then its idx's):
 * one write to the store instead of two. Undefined for a pack spooled to a file, which is stored
 * as it is, beside its idx, and for an idx with a table of 64-bit offsets, whose length readers
 * could not tell from the pack's object count.
 */
function joinedBlob(pack: PackData, idx: Buffer, index: PackIndex): Buffer | undefined {
  if (!Buffer.isBuffer(pack) || !withoutLargeOffsets(idx, index)) return undefined;
  return Buffer.concat([pack, idx]);
}

/** Whether `idx` has no table of 64-bit offsets: then its length follows from its object count, and its tables say all of it. */
function withoutLargeOffsets(idx: Buffer, index: PackIndex): boolean {
  return idx.length === packIndexSize(index.objectCount);
}

/** The idx must describe the pack named `checksum`, and the file must be that pack; returns the parsed idx. */
async function verifyPack(pack: PackData, packSize: number, idx: Buffer, checksum: ObjectId): Promise<PackIndex> {
  if (!isObjectId(checksum)) throw new TypeError(`storing a pack: checksum ${JSON.stringify(checksum)} is not an object id`);
  const index = PackIndex.parse(idx, packSize);
  if (index.packChecksum !== checksum) {
    throw new CorruptPackError(checksum, `storing a pack: idx describes pack ${index.packChecksum}, not ${checksum}`);
  }
  if (Buffer.isBuffer(pack)) verifyPackBytes(pack, packSize, checksum);
  else await verifyPackFile(pack, packSize, checksum);
  return index;
}

/** The file must be the pack named `checksum`: its size and SHA-1 trailer say so cheaply. */
async function verifyPackFile(packPath: string, packSize: number, checksum: ObjectId): Promise<void> {
  const file = await open(packPath, 'r');
  try {
    const { size } = await file.stat();
    const trailer = Buffer.alloc(20);
    if (size >= 32) await file.read(trailer, 0, 20, size - 20);
    checkSizeAndTrailer(packPath, size, trailer, packSize, checksum);
  } finally {
    await file.close();
  }
}

/** The bytes must be the pack named `checksum`, as a file must (verifyPackFile). */
function verifyPackBytes(pack: Buffer, packSize: number, checksum: ObjectId): void {
  checkSizeAndTrailer('the pack received', pack.length, pack.subarray(Math.max(0, pack.length - 20)), packSize, checksum);
}

function checkSizeAndTrailer(what: string, size: number, trailer: Buffer, packSize: number, checksum: ObjectId): void {
  if (size !== packSize) throw new CorruptPackError(checksum, `adding a pack: ${what} has ${size} bytes, expected ${packSize}`);
  if (size < 32) throw new CorruptPackError(checksum, `adding a pack: ${what} is too short to be a pack (${size} bytes)`);
  if (trailer.toString('hex') !== checksum) {
    throw new CorruptPackError(checksum, `adding a pack: ${what} ends with checksum ${trailer.toString('hex')}, expected ${checksum}`);
  }
}
