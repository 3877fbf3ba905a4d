import type { ObjectId } from '@gitfleet/git-format';
import type { PackBitmaps } from './pack-bitmaps.js';
import type { Reached } from './reach-walk.js';
import { ObjectIdSetView } from '../object-id-set-view.js';

/**
 * Objects reached through a pack's bitmaps as a set of ids, without making an id string per
 * object: membership is a bit test, and pack planning takes the bits themselves (packBits).
 */
export class ReachedObjects extends ObjectIdSetView {
  readonly size: number;

  constructor(
    readonly reached: Reached,
    readonly bitmaps: PackBitmaps,
  ) {
    super();
    this.size = reached.bits.count() + reached.outside.size;
  }

  has(oid: ObjectId): boolean {
    return this.reached.has(this.bitmaps.positions, oid);
  }

  *values(): IterableIterator<ObjectId> {
    const positions = this.bitmaps.positions;
    for (const position of this.reached.bits.setBits()) yield positions.oidAt(position);
    yield* this.reached.outside.values();
  }
}
