import type { ObjectId } from '../oid.js';
import type { PackIndex } from '../pack/index-file.js';

/**
 * A pack's objects by their position in the `.idx` (object id order), the numbering the
 * `.rev` and `.bitmap` files refer to: 20 bytes of id and one offset per object.
 */
export class IndexOrder {
  readonly objectCount: number;
  /** Pack offset of each object, by idx position. */
  readonly offsets: Float64Array;
  private readonly ids: Buffer;

  constructor(ids: Buffer, offsets: Float64Array) {
    if (ids.length !== 20 * offsets.length) throw new RangeError(`${ids.length} id bytes for ${offsets.length} offsets`);
    this.ids = ids;
    this.offsets = offsets;
    this.objectCount = offsets.length;
  }

  static fromPackIndex(index: PackIndex): IndexOrder {
    const ids = Buffer.alloc(20 * index.objectCount);
    const offsets = new Float64Array(index.objectCount);
    let position = 0;
    for (const entry of index.entries()) {
      ids.write(entry.oid, 20 * position, 'hex');
      offsets[position++] = entry.offset;
    }
    return new IndexOrder(ids, offsets);
  }

  oidAt(position: number): ObjectId {
    if (!(position >= 0 && position < this.objectCount))
      throw new RangeError(`idx position ${position} outside ${this.objectCount} objects`);
    return this.ids.toString('hex', 20 * position, 20 * position + 20);
  }

  /** Position of `oid` in the idx, or undefined. */
  positionOf(oid: ObjectId): number | undefined {
    const key = Buffer.from(oid, 'hex');
    if (key.length !== 20) return undefined;
    let lo = 0;
    let hi = this.objectCount;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const cmp = this.ids.compare(key, 0, 20, 20 * mid, 20 * mid + 20);
      if (cmp === 0) return mid;
      // Positive: the id at `mid` sorts after `key`.
      if (cmp > 0) hi = mid;
      else lo = mid + 1;
    }
    return undefined;
  }
}
