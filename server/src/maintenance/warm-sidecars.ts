import type { Repository } from '@gitfleet/repository';

/**
 * Loads a repository's reachability bitmaps and commit-graph into this process's caches, after a
 * full repack published new ones: the first clone each worker serves would otherwise load them
 * itself, on its own time (for git's history, about half a second of CPU and a slower first byte).
 * A sidecar that cannot be loaded is the clone's to report, as it would be without the warming.
 */
export async function warmSidecars(repo: Repository): Promise<void> {
  await repo.packs.refresh();
  await Promise.all([repo.packs.bitmaps(), repo.packs.commitGraph()]);
}
