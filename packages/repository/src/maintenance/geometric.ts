/**
 * Which packs a geometric compaction merges: git's `repack --geometric=<factor>`
 * (split_pack_geometry in git's repack code), with a pack's weight its object count.
 *
 * Sorted by weight, the packs that remain after the merge must form a progression where each
 * has at least `factor` times the objects of the next smaller one, and the merged pack must be
 * no less than 1/factor of the smallest pack it leaves alone. So the number of packs stays
 * logarithmic in the number of objects, and each object is rewritten only a logarithmic number
 * of times over the life of the repository.
 */
export interface WeightedPack {
  checksum: string;
  objects: number;
}

export interface GeometricPlan<P extends WeightedPack> {
  /** The packs to merge into one, lightest first; empty when the progression holds already. */
  merge: P[];
  /** The packs left alone, lightest first. */
  keep: P[];
}

export function planGeometric<P extends WeightedPack>(packs: readonly P[], factor = 2): GeometricPlan<P> {
  if (!(factor >= 2) || !Number.isInteger(factor)) throw new RangeError(`geometric factor must be an integer >= 2, not ${factor}`);
  // Ties broken by checksum so that every runner plans the same merge from the same registry.
  const sorted = [...packs].sort((a, b) => a.objects - b.objects || (a.checksum < b.checksum ? -1 : a.checksum > b.checksum ? 1 : 0));
  if (sorted.length === 0) return { merge: [], keep: [] };

  // From the heaviest down, the packs that already form a progression.
  let i = sorted.length - 1;
  for (; i > 0; i--) {
    if (sorted[i].objects < factor * sorted[i - 1].objects) break;
  }
  // The heavier pack of the pair that broke the progression belongs to the merge too; when no
  // pair broke it, there is nothing to merge.
  let split = i === 0 ? 0 : i + 1;

  // The merged pack may itself break the progression of the heavier packs: absorb them until it does not.
  let total = 0;
  for (let j = 0; j < split; j++) total += sorted[j].objects;
  while (split < sorted.length && sorted[split].objects < factor * total) {
    total += sorted[split].objects;
    split++;
  }
  // A "merge" of one pack would only rewrite it.
  if (split < 2) return { merge: [], keep: sorted };
  return { merge: sorted.slice(0, split), keep: sorted.slice(split) };
}
