import type { ObjectId } from '@gitfleet/git-format';
import type { PackBitmaps } from './pack-bitmaps.js';
import type { Reached } from './reach-walk.js';

/**
 * Objects reached through a pack's bitmaps as a set of ids, without making an id string per
 * object: membership is a bit test, and pack planning takes the bits themselves (packBits).
 */
export class ReachedObjects implements ReadonlySet<ObjectId> {
  readonly size: number;

  constructor(
    readonly reached: Reached,
    readonly bitmaps: PackBitmaps,
  ) {
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

  keys(): IterableIterator<ObjectId> {
    return this.values();
  }

  *entries(): IterableIterator<[ObjectId, ObjectId]> {
    for (const oid of this.values()) yield [oid, oid];
  }

  [Symbol.iterator](): IterableIterator<ObjectId> {
    return this.values();
  }

  forEach(callback: (value: ObjectId, key: ObjectId, set: ReadonlySet<ObjectId>) => void, thisArg?: unknown): void {
    for (const oid of this.values()) callback.call(thisArg, oid, oid, this);
  }
}
