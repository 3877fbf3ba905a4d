import { LoopPacer } from '../loop-pacer.js';
import { OidSet } from '../oid-set.js';
import type { PackAccess } from '../pack-access.js';
import { SelectionBuilder, type ObjectSelection } from './selection.js';

/**
 * Every object of these packs, once, for geometric compaction: pack by pack in the order given,
 * each pack's objects in the order they are stored (so that copying them reads each pack from
 * start to end), an object stored in several packs taken from the first.
 */
export function objectsOfPacks(packs: PackAccess, checksums: readonly string[]): Promise<ObjectSelection> {
  return objectsOfPacksExcept(packs, checksums, new OidSet());
}

/** objectsOfPacks, leaving out the objects in `except`. */
export async function objectsOfPacksExcept(
  packs: PackAccess,
  checksums: readonly string[],
  except: OidSet,
  pacer = new LoopPacer(),
): Promise<ObjectSelection> {
  const taken = new OidSet();
  const builder = new SelectionBuilder();
  for (const checksum of checksums) {
    for (const { oid, offset } of (await packs.index(checksum)).entriesByOffset()) {
      if (!except.has(oid) && taken.add(oid)) builder.add({ oid, pack: checksum, offset });
      await pacer.step();
    }
  }
  return builder.build();
}
