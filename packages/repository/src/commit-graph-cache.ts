import { CommitGraph, type CacheStats, type PackIndex } from '@gitfleet/git-format';
import type { BlobStore } from '@gitfleet/storage';
import type { SidecarWarning } from './bitmaps/pack-bitmaps.js';
import { sidecarBlobKey } from './keys.js';
import { SidecarCache } from './sidecar-cache.js';

/** The sidecar of a repacked pack that is its commits' commit-graph (git's `objects/info/commit-graph`), stored as `<checksum>.graph`. */
export const COMMIT_GRAPH_SIDECAR = 'graph';

/**
 * What a loaded commit-graph costs, per object of its pack: about 60 bytes per commit, and
 * commits are a quarter of a typical history's objects.
 */
const BYTES_PER_OBJECT = 16;

/**
 * A pack's commit-graph, or undefined, after a warning, when it is missing or corrupt (parse
 * checks its checksum and structure): a sidecar never fails a read, which then parses commits.
 */
export async function loadCommitGraph(
  blobs: BlobStore,
  repositoryId: string,
  pack: string,
  warn: SidecarWarning,
): Promise<CommitGraph | undefined> {
  const where = `repository ${repositoryId}, pack ${pack}`;
  try {
    const bytes = await blobs.get(sidecarBlobKey(repositoryId, pack, COMMIT_GRAPH_SIDECAR));
    if (!bytes) {
      warn(`${where}: no commit-graph stored; reading commits instead`);
      return undefined;
    }
    return CommitGraph.parse(bytes);
  } catch (error) {
    warn(`${where}: commit-graph unusable, reading commits instead: ${(error as Error).message}`);
    return undefined;
  }
}

/** Loaded commit-graphs by pack, shared by the repositories of a process. */
export class CommitGraphCache {
  private readonly cache: SidecarCache<CommitGraph>;

  constructor(maxBytes = 64 * 1024 * 1024) {
    this.cache = new SidecarCache(maxBytes, BYTES_PER_OBJECT);
  }

  get(blobs: BlobStore, repositoryId: string, index: PackIndex, warn: SidecarWarning): Promise<CommitGraph | undefined> {
    return this.cache.get(repositoryId, index, () => loadCommitGraph(blobs, repositoryId, index.packChecksum, warn));
  }

  /** Lookups answered from the cache and not, and the bytes it holds (read by monitoring). */
  stats(): CacheStats {
    return this.cache.stats();
  }
}

/** The commit-graph cache of stores that configure none. */
export const sharedCommitGraphCache = new CommitGraphCache();
