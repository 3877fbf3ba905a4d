import type { ObjectId } from '@gitfleet/git-format';

/**
 * The parts of ReadonlySet<ObjectId> that follow from `values()`, written once for the id sets
 * that are not a Set (OidSet's packed ids, ReachedObjects' bitmap bits).
 */
export abstract class ObjectIdSetView implements ReadonlySet<ObjectId> {
  abstract readonly size: number;
  abstract has(oid: ObjectId): boolean;
  abstract values(): IterableIterator<ObjectId>;

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
