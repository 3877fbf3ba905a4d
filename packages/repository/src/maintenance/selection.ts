import type { ObjectId } from '@gitfleet/git-format';

/** One object to copy into a new pack: a stored copy of it. */
export interface StoredObject {
  oid: ObjectId;
  pack: string;
  offset: number;
}

const OID_BYTES = 20;
const INITIAL_CAPACITY = 1024;

/**
 * Objects to write into a new pack, in the order asked for, each with the stored copy to take
 * it from. Held column-wise (binary ids, pack numbers, offsets: 32 bytes an object, so a
 * repository of a million objects fits in about 32 MB) because a full repack selects every
 * object of the repository.
 */
export class ObjectSelection {
  constructor(
    /** Number of objects. */
    readonly count: number,
    /** 20-byte ids, object i at [20 i, 20 i + 20). */
    readonly oids: Uint8Array,
    /** The pack of object i, as a position in `packs`. */
    readonly packNumbers: Uint32Array,
    readonly offsets: Float64Array,
    /** Checksums of the packs the objects are taken from. */
    readonly packs: readonly string[],
  ) {}

  oid(i: number): ObjectId {
    return Buffer.from(this.oids.buffer, this.oids.byteOffset + OID_BYTES * i, OID_BYTES).toString('hex');
  }

  pack(i: number): string {
    return this.packs[this.packNumbers[i]];
  }

  at(i: number): StoredObject {
    return { oid: this.oid(i), pack: this.pack(i), offset: this.offsets[i] };
  }

  /** The objects one by one (small selections and tests; large ones are read column-wise). */
  *[Symbol.iterator](): IterableIterator<StoredObject> {
    for (let i = 0; i < this.count; i++) yield this.at(i);
  }
}

/** Builds an ObjectSelection in order, growing its columns as objects are added. */
export class SelectionBuilder {
  private count = 0;
  private oids = new Uint8Array(INITIAL_CAPACITY * OID_BYTES);
  private packNumbers = new Uint32Array(INITIAL_CAPACITY);
  private offsets = new Float64Array(INITIAL_CAPACITY);
  private readonly packs: string[] = [];
  private readonly packNumberOf = new Map<string, number>();

  get size(): number {
    return this.count;
  }

  /** Adds the object whose binary id is bytes[at, at + 20). */
  addBytes(bytes: Uint8Array, at: number, pack: string, offset: number): void {
    if (this.count === this.offsets.length) this.grow();
    this.oids.set(bytes.subarray(at, at + OID_BYTES), OID_BYTES * this.count);
    this.place(pack, offset);
  }

  add(object: StoredObject): void {
    if (!/^[0-9a-f]{40}$/.test(object.oid)) throw new RangeError(`selecting an object: ${JSON.stringify(object.oid)} is not an object id`);
    if (this.count === this.offsets.length) this.grow();
    Buffer.from(this.oids.buffer, this.oids.byteOffset, this.oids.byteLength).write(object.oid, OID_BYTES * this.count, 'hex');
    this.place(object.pack, object.offset);
  }

  build(): ObjectSelection {
    const n = this.count;
    return new ObjectSelection(n, this.oids.slice(0, OID_BYTES * n), this.packNumbers.slice(0, n), this.offsets.slice(0, n), [
      ...this.packs,
    ]);
  }

  private place(pack: string, offset: number): void {
    let number = this.packNumberOf.get(pack);
    if (number === undefined) {
      number = this.packs.length;
      this.packs.push(pack);
      this.packNumberOf.set(pack, number);
    }
    this.packNumbers[this.count] = number;
    this.offsets[this.count] = offset;
    this.count++;
  }

  private grow(): void {
    const capacity = this.offsets.length * 2;
    const oids = new Uint8Array(capacity * OID_BYTES);
    oids.set(this.oids);
    const packNumbers = new Uint32Array(capacity);
    packNumbers.set(this.packNumbers);
    const offsets = new Float64Array(capacity);
    offsets.set(this.offsets);
    this.oids = oids;
    this.packNumbers = packNumbers;
    this.offsets = offsets;
  }
}

/** A selection of the given objects, in their order. */
export function selectionOf(objects: Iterable<StoredObject>): ObjectSelection {
  const builder = new SelectionBuilder();
  for (const object of objects) builder.add(object);
  return builder.build();
}
