import { GIT_MAX_DELTA_DEPTH, type PackLimits } from '@gitfleet/git-format';

/**
 * What one pushed pack may expand to. The ratio is 20 times that of git's own history packed
 * whole; the allowance lets a small push touch a file of up to the default object size.
 */
export const DEFAULT_PACK_LIMITS: PackLimits = {
  maxInflatedBytes: 64 * 1024 ** 3,
  maxExpansionRatio: 1000,
  expansionAllowance: 512 * 1024 ** 2,
  maxDeltaDepth: GIT_MAX_DELTA_DEPTH,
};
