import type { PackIndex } from '@gitfleet/git-format';
import { LoopPacer } from '../loop-pacer.js';
import { OidSet } from '../oid-set.js';
import type { PackAccess } from '../pack-access.js';
import { SelectionBuilder, type ObjectSelection } from './selection.js';

const OID_BYTES = 20;

/**
 * Every object of these packs, once, for geometric compaction: pack by pack in the order given,
 * each pack's objects in the order they are stored (so that copying them reads each pack from
 * start to end), an object stored in several packs taken from the first.
 */
export function objectsOfPacks(packs: PackAccess, checksums: readonly string[]): Promise<ObjectSelection> {
  return objectsOfPacksExcept(packs, checksums, new OidSet());
}

/** objectsOfPacks, leaving out the objects in `except`. */
export async function objectsOfPacksExcept(packs: PackAccess, checksums: readonly string[], except: OidSet): Promise<ObjectSelection> {
  const taken = new OidSet();
  const builder = new SelectionBuilder();
  const pacer = new LoopPacer();
  for (const checksum of checksums) {
    const { oids, offsets, order } = entriesInPackOrder(await packs.index(checksum));
    for (const i of order) {
      const at = OID_BYTES * i;
      if (except.hasBytes(oids, at) || taken.addBytes(oids, at) < 0) continue;
      builder.addBytes(oids, at, checksum, offsets[i]);
      await pacer.step();
    }
  }
  return builder.build();
}

/** A pack's ids and offsets (in id order, as the idx lists them) and the entry numbers in offset order. */
function entriesInPackOrder(index: PackIndex): { oids: Buffer; offsets: Float64Array; order: Uint32Array } {
  const count = index.objectCount;
  const oids = Buffer.alloc(OID_BYTES * count);
  const offsets = new Float64Array(count);
  let i = 0;
  for (const entry of index.entries()) {
    oids.write(entry.oid, OID_BYTES * i, 'hex');
    offsets[i++] = entry.offset;
  }
  const order = new Uint32Array(count);
  for (let k = 0; k < count; k++) order[k] = k;
  order.sort((a, b) => offsets[a] - offsets[b]);
  return { oids, offsets, order };
}
