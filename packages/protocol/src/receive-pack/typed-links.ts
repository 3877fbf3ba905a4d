import { ObjectRejected, objectTypeOfCode, type LinkedTypeCode, type LinkSink, type ObjectId, type ObjectType } from '@gitfleet/git-format';
import { OidSet } from '@gitfleet/repository';

/**
 * The ids a push's objects point to, each with the types its linking objects expect as a mask
 * (bit 1 << type code): two objects may name one id as different types, and then one of them
 * is wrong whatever the id turns out to be. Binary ids: a large pack points at millions.
 */
export class TypedLinks implements LinkSink {
  private readonly ids = new OidSet();

  get size(): number {
    return this.ids.size;
  }

  link(bytes: Uint8Array, at: number, expected: LinkedTypeCode): void {
    this.addExpected(bytes, at, 1 << expected);
  }

  /** Adds the id at bytes[at..at+20) with the types in `mask`, to those already expected of it. */
  addExpected(bytes: Uint8Array, at: number, mask: number): void {
    const entry = this.ids.indexOfBytes(bytes, at);
    if (entry < 0) this.ids.addBytes(bytes, at, mask);
    else this.ids.setFlags(entry, this.ids.flags(entry) | mask);
  }

  oidAt(entry: number): ObjectId {
    return this.ids.oidAt(entry);
  }

  /** The 20 bytes of an entry's id (a view: valid until the next link). */
  bytesAt(entry: number): Uint8Array {
    return this.ids.bytesAt(entry);
  }

  expectedAt(entry: number): number {
    return this.ids.flags(entry);
  }

  /** Every id (20 bytes each) and its mask, structured-cloneable for crossing threads. */
  toBytes(): { ids: Uint8Array; expected: Uint8Array } {
    const ids = new Uint8Array(20 * this.size);
    const expected = new Uint8Array(this.size);
    for (let entry = 0; entry < this.size; entry++) {
      ids.set(this.ids.bytesAt(entry), 20 * entry);
      expected[entry] = this.ids.flags(entry);
    }
    return { ids, expected };
  }

  addAll(found: { ids: Uint8Array; expected: Uint8Array }): void {
    for (let entry = 0; entry < found.expected.length; entry++) this.addExpected(found.ids, 20 * entry, found.expected[entry]);
  }
}

/** A linked object whose type is not the one its linking object says (git's check_object in index-pack). */
export class LinkTypeMismatch extends ObjectRejected {
  override name = 'LinkTypeMismatch';

  constructor(oid: ObjectId, expected: ObjectType, found: ObjectType) {
    super(`object ${oid}: expected type ${expected}, found ${found}`);
  }
}

/** Throws LinkTypeMismatch unless `expected` (a TypedLinks mask) asks for `found` and nothing else. */
export function checkLinkedType(oid: ObjectId, expected: number, found: ObjectType): void {
  for (let code = 1; code <= 4; code++) {
    const type = objectTypeOfCode(code) as ObjectType;
    if ((expected & (1 << code)) !== 0 && type !== found) throw new LinkTypeMismatch(oid, type, found);
  }
}
