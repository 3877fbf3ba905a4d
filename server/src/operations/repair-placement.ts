import type { CleanupProgress, CleanupReport, KeyWalkOptions, PlacementBlobStore, RepairProgress, RepairReport } from '@gitfleet/storage';

export interface PlacementRepairOptions extends KeyWalkOptions {
  /** After the repair, remove copies on stores no longer preferred (see PlacementBlobStore.cleanup). */
  cleanup: boolean;
  /** Count what would be copied and removed; change nothing. */
  dryRun: boolean;
  /** How old every preferred copy must be before a copy elsewhere is removed: longer than any push (the packs' grace period). */
  cleanupMinAgeMs: number;
  /** Accepts a cleanupMinAgeMs below the placement's cleanupAgeFloorMs (see CleanupOptions.unsafeMinAge). */
  unsafeMinAge?: boolean;
  /** Called right before each removal; a throw stops the run (a background run whose lease is running out). */
  beforeDelete?: (key: string, store: string) => void;
  onRepairProgress?: (progress: RepairProgress) => void;
  onCleanupProgress?: (progress: CleanupProgress) => void;
}

export interface PlacementRepairOutcome {
  repair: RepairReport;
  /** Absent when cleanup was not asked for. */
  cleanup?: CleanupReport;
  /** Every blob has its copies, every store was listed, and cleanup (if run) met no failure. */
  ok: boolean;
}

/**
 * Restores R copies of every blob on its preferred stores, then (if asked) removes the copies
 * elsewhere that are no longer needed: `gitfleet repair` and the background job both run this.
 * Repair goes first, so that a copy a lost store held is back before its stand-in is judged; the
 * copies repair makes are young, so cleanup keeps their stand-ins until a later run finds them old.
 */
export async function repairPlacement(placement: PlacementBlobStore, options: PlacementRepairOptions): Promise<PlacementRepairOutcome> {
  const walk: KeyWalkOptions = { prefix: options.prefix, concurrency: options.concurrency, pace: options.pace, signal: options.signal };
  const repair = await placement.repair({ ...walk, dryRun: options.dryRun, onProgress: options.onRepairProgress });
  if (!options.cleanup) return { repair, ok: repair.ok };
  const cleanup = await placement.cleanup({
    ...walk,
    dryRun: options.dryRun,
    minAgeMs: options.cleanupMinAgeMs,
    unsafeMinAge: options.unsafeMinAge,
    beforeDelete: options.beforeDelete,
    onProgress: options.onCleanupProgress,
  });
  return { repair, cleanup, ok: repair.ok && cleanup.ok };
}
