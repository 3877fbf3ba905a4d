/**
 * What the indexer knows of each pack entry, column-wise in typed arrays: a pack of 850k
 * objects costs about 70 bytes per entry and no per-object JS object or string.
 */
export class EntryTable {
  count = 0;
  offsets: Float64Array;
  headerLengths: Uint8Array;
  /** The entry's pack type code (1-4 objects, 6 ofs-delta, 7 ref-delta). */
  codes: Uint8Array;
  /** Inflated size of the entry's data (for a delta, of the delta itself). */
  sizes: Float64Array;
  crcs: Uint32Array;
  /** Resolved object type code (1-4), 0 until the object's id is known. */
  types: Uint8Array;
  /** 20-byte object ids, valid where types[i] !== 0. */
  oids: Buffer;
  /** For an ofs-delta, the base's entry number; for a resolved ref-delta, too. -1 otherwise. */
  bases: Int32Array;
  /** For a ref-delta, its base's 20-byte id; allocated on the first ref-delta. */
  refBases: Buffer | undefined;

  constructor(capacity: number) {
    this.offsets = new Float64Array(capacity);
    this.headerLengths = new Uint8Array(capacity);
    this.codes = new Uint8Array(capacity);
    this.sizes = new Float64Array(capacity);
    this.crcs = new Uint32Array(capacity);
    this.types = new Uint8Array(capacity);
    this.oids = Buffer.alloc(20 * capacity);
    this.bases = new Int32Array(capacity).fill(-1);
  }

  /**
   * Moves the columns to shared memory, for threads that resolve deltas into this table: each
   * writes the ids, types and bases of the entries of its own trees only.
   */
  moveToSharedMemory(): void {
    this.reallocate(this.capacity, (bytes) => new SharedArrayBuffer(bytes));
  }

  /** The columns, to hand to another thread (after moveToSharedMemory, it sees and writes the same table). */
  get parts(): EntryTableParts {
    const { count, offsets, headerLengths, codes, sizes, crcs, types, oids, bases, refBases } = this;
    return { count, offsets, headerLengths, codes, sizes, crcs, types, oids, bases, refBases };
  }

  /** The table another thread handed over as `parts`. */
  static attach(parts: EntryTableParts): EntryTable {
    const table = new EntryTable(0);
    Object.assign(table, parts, { oids: asBuffer(parts.oids), refBases: parts.refBases && asBuffer(parts.refBases) });
    return table;
  }

  get capacity(): number {
    return this.offsets.length;
  }

  /** Appends an entry and returns its number, growing the columns when full. */
  add(offset: number, headerLength: number, code: number, size: number, crc: number): number {
    if (this.count === this.capacity) this.grow(Math.max(16, Math.ceil(this.capacity * 1.5)));
    const i = this.count++;
    this.offsets[i] = offset;
    this.headerLengths[i] = headerLength;
    this.codes[i] = code;
    this.sizes[i] = size;
    this.crcs[i] = crc;
    return i;
  }

  refBaseTable(): Buffer {
    this.refBases ??= Buffer.alloc(20 * this.capacity);
    return this.refBases;
  }

  /** Entry number of the entry starting exactly at `offset`, or -1. Offsets ascend with entry numbers. */
  entryAt(offset: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.offsets[mid] < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.count && this.offsets[lo] === offset ? lo : -1;
  }

  /** Grows the columns, in the kind of memory they are in (shared ones stay shared). */
  private grow(capacity: number): void {
    const shared = this.offsets.buffer instanceof SharedArrayBuffer;
    this.reallocate(capacity, (bytes) => (shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes)));
  }

  /** Every column copied into `capacity` entries of memory that `memory` makes. */
  private reallocate(capacity: number, memory: (bytes: number) => ArrayBufferLike): void {
    const column = <T extends Float64Array | Uint8Array | Uint32Array | Int32Array>(
      old: T,
      make: (buffer: ArrayBufferLike) => T,
      width: number,
    ): T => {
      const next = make(memory(width * capacity));
      next.set(old);
      return next;
    };
    const previous = this.capacity;
    this.offsets = column(this.offsets, (b) => new Float64Array(b), 8);
    this.headerLengths = column(this.headerLengths, (b) => new Uint8Array(b), 1);
    this.codes = column(this.codes, (b) => new Uint8Array(b), 1);
    this.sizes = column(this.sizes, (b) => new Float64Array(b), 8);
    this.crcs = column(this.crcs, (b) => new Uint32Array(b), 4);
    this.types = column(this.types, (b) => new Uint8Array(b), 1);
    this.bases = column(this.bases, (b) => new Int32Array(b), 4).fill(-1, previous);
    this.oids = column(this.oids, (b) => Buffer.from(b), 20);
    if (this.refBases !== undefined) this.refBases = column(this.refBases, (b) => Buffer.from(b), 20);
  }
}

export type EntryTableParts = Pick<
  EntryTable,
  'count' | 'offsets' | 'headerLengths' | 'codes' | 'sizes' | 'crcs' | 'types' | 'oids' | 'bases' | 'refBases'
>;

/** A Buffer that crossed threads arrives as a plain Uint8Array over the same memory. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
