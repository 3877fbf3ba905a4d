import { GIT_MAX_DELTA_DEPTH, type PackLimits } from '@gitfleet/git-format';

/**
 * What one pushed pack may expand to. Measured on git's own history (git/git as of 2026-08-20): the
 * whole history packed (496 MB) expands to 15.3 GB, a ratio of 30.9; the thin pack of a release
 * (v2.53.0..v2.54.0) 21; single commits 3 to 11. A ratio of 1000 leaves 30 times that margin,
 * the allowance lets a small push change a file as large as the default object limit, and 64 GiB
 * holds a push of the whole 2 GiB pack limit at git's ratio. The depth is the deepest chain git
 * itself writes.
 */
export const DEFAULT_PACK_LIMITS: PackLimits = {
  maxInflatedBytes: 64 * 1024 ** 3,
  maxExpansionRatio: 1000,
  expansionAllowance: 512 * 1024 ** 2,
  maxDeltaDepth: GIT_MAX_DELTA_DEPTH,
};
