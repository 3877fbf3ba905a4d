/**
 * Reachability bitmaps of a pack (git's `.bitmap`): written when maintenance repacks, read to
 * answer clones and fetches without walking the history they cover.
 */
export { buildPackBitmaps, type BuildBitmapsOptions, type PackToBitmap } from './build.js';
export { PackPositions } from './pack-positions.js';
export { MAX_EXTRA_TIP_BITMAPS, selectCommits, type CandidateCommit } from './select-commits.js';
export { bitmapReachability, type BitmapReachability, type BitmapReachabilityRequest } from './reachability.js';
export { bitmapsCanFilter } from './filter.js';
export { loadPackBitmaps, PackBitmaps, PackBitmapsCache, sharedPackBitmapsCache, type SidecarWarning } from './pack-bitmaps.js';
export { Reached } from './reach-walk.js';
export { ReachedObjects } from './reached-objects.js';
export { bitmapsCanEnumerate, enumerateWithBitmaps } from './enumerate-with-bitmaps.js';
