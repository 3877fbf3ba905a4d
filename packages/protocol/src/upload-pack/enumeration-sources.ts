import type { EnumerationOptions, Repository } from '@gitfleet/repository';

/**
 * What an upload-pack enumeration reads besides the objects: the repacked pack's bitmaps and
 * commit-graph, and for a clone (no haves) the last full repack's layers, which let a clone of
 * every ref take the rest pack whole.
 */
export async function enumerationSources(repo: Repository, request: { haves: readonly unknown[] }): Promise<EnumerationOptions> {
  return {
    cacheKey: repo.info.id,
    bitmaps: await repo.packs.bitmaps(),
    layers: request.haves.length === 0 ? await repo.packs.repackLayers() : undefined,
    commitGraph: repo.packs,
  };
}
