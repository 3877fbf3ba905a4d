import type { ObjectId } from '@gitfleet/git-format';
import { OidSet } from '../oid-set.js';

/**
 * The objects of one pack by their position in pack order (offset order), which is the bit
 * each one has in the pack's bitmaps. Lookups take binary ids straight out of tree entries:
 * a walk over a large history looks up every entry of every tree it reads.
 */
export class PackPositions {
  /** Entry numbers are insertion order, and ids are inserted in pack order: entry number = pack position. */
  private constructor(private readonly ids: OidSet) {}

  static fromPackOrder(oidsInPackOrder: ArrayLike<ObjectId>): PackPositions {
    return PackPositions.of(oidsInPackOrder.length, (position) => oidsInPackOrder[position]);
  }

  /** From `count` ids given one at a time by pack position (no array of them all at once). */
  static of(count: number, oidAt: (position: number) => ObjectId): PackPositions {
    const ids = new OidSet(count);
    for (let position = 0; position < count; position++) {
      const oid = oidAt(position);
      if (!ids.add(oid)) throw new RangeError(`object ${oid} appears twice in pack order (again at position ${position})`);
    }
    return new PackPositions(ids);
  }

  get count(): number {
    return this.ids.size;
  }

  /** The pack position of `oid`, or -1 when the pack does not hold it. */
  positionOf(oid: ObjectId): number {
    return this.ids.indexOf(oid);
  }

  /** The pack position of the id at bytes[at..at+20), or -1. */
  positionOfBytes(bytes: Uint8Array, at: number): number {
    return this.ids.indexOfBytes(bytes, at);
  }

  oidAt(position: number): ObjectId {
    return this.ids.oidAt(position);
  }
}
