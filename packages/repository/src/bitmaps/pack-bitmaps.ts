import {
  BitmapFile,
  readReverseIndex,
  reverseIndexOf,
  type Bitmap,
  type CacheStats,
  type ObjectId,
  type PackIndex,
} from '@gitfleet/git-format';
import type { BlobStore } from '@gitfleet/storage';
import { LoopPacer } from '../loop-pacer.js';
import { PackPositions } from './pack-positions.js';
import { sidecarBlobKey } from '../keys.js';
import { SidecarCache, type SidecarWarning } from '../sidecar-cache.js';

export type { SidecarWarning } from '../sidecar-cache.js';

/**
 * One pack's reachability bitmaps as a clone reads them: the parsed `.bitmap`, each object's
 * position in pack order (its bit) and the offset of each position, so that a set of bits is
 * a plan of the pack's entries without looking anything up again.
 */
export class PackBitmaps {
  private constructor(
    readonly checksum: ObjectId,
    readonly index: PackIndex,
    readonly file: BitmapFile,
    readonly positions: PackPositions,
    /** Pack offset of each pack position. */
    private readonly offsets: Float64Array,
  ) {}

  /**
   * From a pack's index, its `.bitmap` bytes and its reverse index (idx positions in pack
   * order), taking turns with the event loop; CorruptSidecarError when the bitmap does not
   * belong to this pack or is malformed.
   */
  static async load(index: PackIndex, bitmapBytes: Uint8Array, indexPositions: Uint32Array, pacer = new LoopPacer()): Promise<PackBitmaps> {
    const { positions, offsets } = await PackPositions.fromIndex(index, indexPositions, pacer);
    const file = BitmapFile.parse(bitmapBytes, {
      objectCount: index.objectCount,
      packChecksum: index.packChecksum,
      oidAt: (i) => positions.oidAtIndexPosition(i),
    });
    return new PackBitmaps(index.packChecksum, index, file, positions, offsets);
  }

  get objectCount(): number {
    return this.offsets.length;
  }

  /** Everything reachable from `commit` as pack positions (a copy), when it has a bitmap. */
  storedReach(commit: ObjectId): Bitmap | undefined {
    return this.file.bitmapFor(commit);
  }

  offsetAt(position: number): number {
    return this.offsets[position];
  }
}

/**
 * The bitmaps of a pack that has them: its `.bitmap`, and its `.rev` (computed from the idx
 * when absent or unusable). Undefined, after a warning, when the bitmap is missing or corrupt:
 * a sidecar never fails a clone, which then walks.
 */
export async function loadPackBitmaps(
  blobs: BlobStore,
  repositoryId: string,
  index: PackIndex,
  warn: SidecarWarning,
): Promise<PackBitmaps | undefined> {
  const checksum = index.packChecksum;
  const where = `repository ${repositoryId}, pack ${checksum}`;
  try {
    const bitmapBytes = await blobs.get(sidecarBlobKey(repositoryId, checksum, 'bitmap'));
    if (!bitmapBytes) {
      warn(`${where}: no .bitmap stored; walking instead`);
      return undefined;
    }
    return await PackBitmaps.load(index, bitmapBytes, await reverseIndex(blobs, repositoryId, index, warn));
  } catch (error) {
    warn(`${where}: bitmap unusable, walking instead: ${(error as Error).message}`);
    return undefined;
  }
}

async function reverseIndex(blobs: BlobStore, repositoryId: string, index: PackIndex, warn: SidecarWarning): Promise<Uint32Array> {
  const bytes = await blobs.get(sidecarBlobKey(repositoryId, index.packChecksum, 'rev'));
  if (bytes) {
    try {
      return readReverseIndex(bytes, { objectCount: index.objectCount, packChecksum: index.packChecksum });
    } catch (error) {
      warn(`repository ${repositoryId}, pack ${index.packChecksum}: .rev unusable, computed from the idx: ${(error as Error).message}`);
    }
  }
  return reverseIndexOf(index);
}

/**
 * What one object of a pack costs a loaded PackBitmaps: its position and offset (16 bytes), its
 * share of the id lookup, and of the commit bitmaps resolved as clones ask for them (one bit per
 * object each, kept as git keeps them). An estimate made before loading, from the object count.
 */
const BYTES_PER_OBJECT = 128;

/** Loaded bitmaps by pack, shared by the repositories of a process, bounded by an estimate of their bytes (BYTES_PER_OBJECT). */
export class PackBitmapsCache {
  private readonly cache: SidecarCache<PackBitmaps>;

  constructor(maxBytes = 256 * 1024 * 1024) {
    this.cache = new SidecarCache(maxBytes, BYTES_PER_OBJECT);
  }

  get(blobs: BlobStore, repositoryId: string, index: PackIndex, warn: SidecarWarning): Promise<PackBitmaps | undefined> {
    return this.cache.get(repositoryId, index, () => loadPackBitmaps(blobs, repositoryId, index, warn));
  }

  /** Lookups answered from the cache and not, and the bytes it holds (read by monitoring). */
  stats(): CacheStats {
    return this.cache.stats();
  }
}

/** The bitmaps cache of stores that configure none. */
export const sharedPackBitmapsCache = new PackBitmapsCache();
