import type { PackInfo } from '../pack-set.js';
import type { Repository } from '../repository.js';
import { planGeometric } from './geometric.js';

export type MaintenanceAction = 'none' | 'compact' | 'full';

/** When maintenance pays; every field has a default (DEFAULT_MAINTENANCE_POLICY). */
export interface MaintenancePolicy {
  /** git's --geometric=<factor>. */
  geometricFactor: number;
  /**
   * Compact only when there are more active packs than this (and the progression is broken). A
   * compaction costs more than the few extra index lookups of a handful of small packs, and a
   * busy repository would otherwise compact after every other push; git's own incremental repack
   * waits for more than 10 packs (maintenance.incremental-repack.auto).
   */
  compactAbovePacks: number;
  /** With no repack pack yet, a full repack pays once the packs hold this many objects. */
  fullRepackMinObjects: number;
  /**
   * With a repack pack, a full repack pays again once the objects in other packs exceed this
   * share of its objects (before geometric compaction would merge it away).
   */
  fullRepackOutsideShare: number;
}

export const DEFAULT_MAINTENANCE_POLICY: MaintenancePolicy = {
  geometricFactor: 2,
  compactAbovePacks: 10,
  fullRepackMinObjects: 5000,
  fullRepackOutsideShare: 0.5,
};

/**
 * What maintenance would do now, from the pack registry alone (cheap enough to run after every
 * push: one KV scan at most, and usually the view already in memory).
 */
export async function maintenanceNeeded(
  repo: Pick<Repository, 'packs'>,
  policy: Partial<MaintenancePolicy> = {},
): Promise<MaintenanceAction> {
  return chooseMaintenance(await repo.packs.list(), { ...DEFAULT_MAINTENANCE_POLICY, ...policy }).action;
}

/** The decision and, for a compaction, the packs to merge. */
export function chooseMaintenance(
  active: readonly PackInfo[],
  policy: MaintenancePolicy,
): { action: 'none' } | { action: 'full' } | { action: 'compact'; merge: PackInfo[] } {
  if (fullRepackPays(active, policy)) return { action: 'full' };
  const merge = compactionPlan(active, policy);
  return merge.length > 0 ? { action: 'compact', merge } : { action: 'none' };
}

/**
 * The packs a geometric compaction merges now. The packs a full repack writes beside its clone
 * pack stay out: the cruft holds the objects no ref reached, and the rest pack those only refs
 * outside a clone reached, both kept apart from the clone pack until the next full repack.
 */
export function compactionPlan(active: readonly PackInfo[], policy: MaintenancePolicy): PackInfo[] {
  const candidates = active.filter(isCompactable);
  if (candidates.length <= policy.compactAbovePacks) return [];
  return planGeometric(candidates, policy.geometricFactor).merge;
}

function fullRepackPays(active: readonly PackInfo[], policy: MaintenancePolicy): boolean {
  const candidates = active.filter(isCompactable);
  if (candidates.length === 0) return false;
  // Newest first: the first repack pack is the latest full repack.
  const repack = candidates.find((pack) => pack.kind === 'repack');
  const total = candidates.reduce((sum, pack) => sum + pack.objects, 0);
  if (!repack) return total >= policy.fullRepackMinObjects;
  return total - repack.objects > policy.fullRepackOutsideShare * repack.objects;
}

function isCompactable(pack: PackInfo): boolean {
  return pack.kind !== 'cruft' && pack.kind !== 'repack-rest';
}
