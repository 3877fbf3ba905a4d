import { join } from 'node:path';
import { PackIndex, reverseIndexOf, writeReverseIndex } from '@gitfleet/git-format';
import type { PackWriterStage, NewPack } from './maintain.js';
import { cloneOrder } from './clone-order.js';
import { objectsOfPacks } from './objects-of-packs.js';
import { rewritePack, type WrittenPack } from './pack-rewrite.js';

/**
 * The packs maintenance publishes, written from stored entries: a compaction copies every object
 * of the packs it merges; a full repack writes the reachable objects in clone order with the
 * sidecars that serve clones from it (`.rev`), and the rest into a cruft pack.
 */
export const defaultPackWriter: PackWriterStage = {
  async compact(packs, checksums, path, options) {
    return rewritePack(packs, await objectsOfPacks(packs, checksums), { path, ...options });
  },

  async repack(repo, tips, fromPacks, dir, options) {
    const { reachable, unreachable } = await cloneOrder(repo, tips, fromPacks);
    const main = await rewritePack(repo.packs, reachable, { path: join(dir, 'repack.pack'), ...options });
    const cruft = unreachable.count > 0 ? await rewritePack(repo.packs, unreachable, { path: join(dir, 'cruft.pack'), ...options }) : undefined;
    return { main: withSidecars(main), cruft };
  },
};

function withSidecars(pack: WrittenPack): NewPack {
  const index = PackIndex.parse(pack.idx, pack.size);
  return { ...pack, sidecars: new Map([['rev', writeReverseIndex(reverseIndexOf(index), pack.checksum)]]) };
}
