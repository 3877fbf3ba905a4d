import type { ObjectId } from '@gitfleet/git-format';
import type { PackBitmaps } from '../bitmaps/pack-bitmaps.js';
import type { RepackLayers } from '../repack-tips-cache.js';
import type { CommitGraphSource } from './commits.js';
import type { ObjectFilter } from './filter.js';

/** What a fetch asks enumerateObjects for, and what it gets: shared by the walk and the bitmaps (bitmaps/). */
export interface EnumerationRequest {
  /** Objects asked for, of any type (tags are peeled; everything they reach is sent). */
  wants: readonly ObjectId[];
  /** Objects the client has (absent ones must be dropped by the caller). */
  haves: readonly ObjectId[];
  /** Commits whose parents are not followed (the shallow boundaries of both sides). */
  shallow?: ReadonlySet<ObjectId>;
  filter?: ObjectFilter;
  /**
   * Annotated tags that may come along (include-tag): each is added, with the tags it
   * points through, when the object it finally points at is sent.
   */
  includeTags?: readonly ObjectId[];
  /** Called now and then with the number of objects selected so far. */
  onProgress?(count: number): void;
}

export interface EnumerationOptions {
  /** Names the repository in the process-wide memo of parsed commits. */
  cacheKey?: string;
  /**
   * The bitmaps of one of the repository's packs: when given, and the request is not shallow
   * (nor filtered by tree depth), the objects come from them, as bits of that pack that planPack
   * takes as they are, and only history newer than the bitmapped commits is walked.
   */
  bitmaps?: PackBitmaps;
  /**
   * The latest full repack's rest pack and the tips it was made from (PackAccess.repackLayers):
   * with bitmaps, a clone that wants every one of those tips takes that pack whole, unwalked.
   */
  layers?: RepackLayers;
  /** The repository's commit-graph (its PackAccess): commits it holds are not read from the packs. */
  commitGraph?: CommitGraphSource;
}

export interface Enumeration {
  /** Objects to send. */
  objects: ReadonlySet<ObjectId>;
  /** Objects known to be on the client (reachable from its haves): bases for a thin pack. */
  clientHas: ReadonlySet<ObjectId>;
}
