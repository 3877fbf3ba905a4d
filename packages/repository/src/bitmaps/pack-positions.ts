import { packPositionsByIndexPosition, type ObjectId, type PackIndex } from '@gitfleet/git-format';
import type { LoopPacer } from '../loop-pacer.js';
import { OidSet } from '../oid-set.js';

/**
 * The objects of one pack by their position in pack order (offset order), which is the bit
 * each one has in the pack's bitmaps. Lookups take binary ids straight out of tree entries:
 * a walk over a large history looks up every entry of every tree it reads.
 */
export class PackPositions {
  /**
   * `ids` holds the ids in pack order, or in idx order with the two permutations between
   * them (OidSet entry numbers are insertion order).
   */
  private constructor(
    private readonly ids: OidSet,
    private readonly byIndexPosition?: { packPositions: Uint32Array; indexPositions: Uint32Array },
  ) {}

  /** From every id of the pack in pack order, taking turns with the event loop. */
  static async fromPackOrder(oidsInPackOrder: ArrayLike<ObjectId>, pacer: LoopPacer): Promise<PackPositions> {
    const ids = new OidSet(oidsInPackOrder.length);
    for (let position = 0; position < oidsInPackOrder.length; position++) {
      if ((position & 0xfff) === 0) await pacer.step();
      const oid = oidsInPackOrder[position];
      if (!ids.add(oid)) throw new RangeError(`object ${oid} appears twice in pack order (again at position ${position})`);
    }
    return new PackPositions(ids);
  }

  /**
   * From the pack's idx and reverse index (idx positions in pack order), taking turns with the
   * event loop; with each position's pack offset.
   */
  static async fromIndex(
    index: PackIndex,
    indexPositions: Uint32Array,
    pacer: LoopPacer,
  ): Promise<{ positions: PackPositions; offsets: Float64Array }> {
    const count = index.objectCount;
    const packPositions = packPositionsByIndexPosition(indexPositions);
    const ids = new OidSet(count);
    const offsets = new Float64Array(count);
    const idBytes = index.objectIdBytes();
    for (let indexPosition = 0; indexPosition < count; indexPosition++) {
      if ((indexPosition & 0xfff) === 0) await pacer.step();
      ids.addBytes(idBytes, 20 * indexPosition);
      offsets[packPositions[indexPosition]] = index.offsetAtIndexPosition(indexPosition);
    }
    return { positions: new PackPositions(ids, { packPositions, indexPositions }), offsets };
  }

  get count(): number {
    return this.ids.size;
  }

  /** The pack position of `oid`, or -1 when the pack does not hold it. */
  positionOf(oid: ObjectId): number {
    return this.positionOfEntry(this.ids.indexOf(oid));
  }

  /** The pack position of the id at bytes[at..at+20), or -1. */
  positionOfBytes(bytes: Uint8Array, at: number): number {
    return this.positionOfEntry(this.ids.indexOfBytes(bytes, at));
  }

  oidAt(position: number): ObjectId {
    return this.ids.oidAt(this.byIndexPosition ? this.byIndexPosition.indexPositions[position] : position);
  }

  /** The id at an idx position (what `.bitmap` entries name). */
  oidAtIndexPosition(indexPosition: number): ObjectId {
    if (!this.byIndexPosition) throw new RangeError(`positions made from pack order know no idx position (asked for ${indexPosition})`);
    return this.ids.oidAt(indexPosition);
  }

  private positionOfEntry(entry: number): number {
    if (entry < 0) return -1;
    return this.byIndexPosition ? this.byIndexPosition.packPositions[entry] : entry;
  }
}
