import type { ObjectId } from '@gitfleet/git-format';
import { ObjectIdSetView } from './object-id-set-view.js';

const OID_BYTES = 20;
const INITIAL_CAPACITY = 1024;

/**
 * A set of object ids held as 20-byte binary ids, for walks over hundreds of thousands of
 * objects: no string per id, no per-entry allocation. Open addressing (linear probing) over a
 * power-of-two table of entry numbers; the ids themselves sit densely in insertion order, so
 * iteration order is insertion order, as with a Set.
 *
 * Ids are SHA-1 digests, uniformly distributed: their first four bytes are the hash.
 *
 * Each entry also carries one byte of flags for the caller (what a walk knows of the object),
 * so that one lookup answers both "seen?" and "how?".
 */
export class OidSet extends ObjectIdSetView {
  private ids: Uint8Array;
  private flagBytes: Uint8Array;
  /** Entry number + 1 per slot; 0 is an empty slot. */
  private slots: Int32Array;
  private mask: number;
  private count = 0;

  constructor(expected = 0) {
    super();
    let capacity = INITIAL_CAPACITY;
    while (capacity < expected) capacity *= 2;
    this.ids = new Uint8Array(capacity * OID_BYTES);
    this.flagBytes = new Uint8Array(capacity);
    this.slots = new Int32Array(capacity * 2);
    this.mask = capacity * 2 - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Entry number of the id at bytes[at..at+20), or -1. */
  indexOfBytes(bytes: Uint8Array, at: number): number {
    const ids = this.ids;
    const slots = this.slots;
    const mask = this.mask;
    let slot = hashAt(bytes, at) & mask;
    for (;;) {
      const entry = slots[slot] - 1;
      if (entry < 0) return -1;
      if (equalAt(ids, entry * OID_BYTES, bytes, at)) return entry;
      slot = (slot + 1) & mask;
    }
  }

  hasBytes(bytes: Uint8Array, at: number): boolean {
    return this.indexOfBytes(bytes, at) >= 0;
  }

  /** Adds the id at bytes[at..at+20) with `flags`; returns its entry number, or -1 when it was already present. */
  addBytes(bytes: Uint8Array, at: number, flags = 0): number {
    const ids = this.ids;
    const slots = this.slots;
    const mask = this.mask;
    let slot = hashAt(bytes, at) & mask;
    for (;;) {
      const entry = slots[slot] - 1;
      if (entry < 0) break;
      if (equalAt(ids, entry * OID_BYTES, bytes, at)) return -1;
      slot = (slot + 1) & mask;
    }
    const entry = this.count;
    if (entry * OID_BYTES === ids.length) {
      this.grow();
      return this.addBytes(bytes, at, flags);
    }
    ids.set(bytes.subarray(at, at + OID_BYTES), entry * OID_BYTES);
    this.flagBytes[entry] = flags;
    slots[slot] = entry + 1;
    this.count = entry + 1;
    return entry;
  }

  has(oid: ObjectId): boolean {
    const key = keyOf(oid);
    return key !== undefined && this.indexOfBytes(key, 0) >= 0;
  }

  /** Adds a hex id; returns whether it was new. */
  add(oid: ObjectId): boolean {
    const key = keyOf(oid);
    if (key === undefined) throw new TypeError(`OidSet: "${oid}" is not an object id`);
    return this.addBytes(key, 0) >= 0;
  }

  /** Entry number of a hex id, or -1. */
  indexOf(oid: ObjectId): number {
    const key = keyOf(oid);
    return key === undefined ? -1 : this.indexOfBytes(key, 0);
  }

  flags(entry: number): number {
    return this.flagBytes[entry];
  }

  setFlags(entry: number, flags: number): void {
    this.flagBytes[entry] = flags;
  }

  /** The id of an entry as 40 hex digits. */
  oidAt(entry: number): ObjectId {
    return Buffer.from(this.ids.buffer, this.ids.byteOffset + entry * OID_BYTES, OID_BYTES).toString('hex');
  }

  /** The 20 bytes of an entry's id (a view: valid until the next add). */
  bytesAt(entry: number): Uint8Array {
    return this.ids.subarray(entry * OID_BYTES, entry * OID_BYTES + OID_BYTES);
  }

  *values(): IterableIterator<ObjectId> {
    for (let entry = 0; entry < this.count; entry++) yield this.oidAt(entry);
  }

  private grow(): void {
    const capacity = (this.ids.length / OID_BYTES) * 2;
    const ids = new Uint8Array(capacity * OID_BYTES);
    ids.set(this.ids);
    const flagBytes = new Uint8Array(capacity);
    flagBytes.set(this.flagBytes);
    const slots = new Int32Array(capacity * 2);
    const mask = capacity * 2 - 1;
    for (let entry = 0; entry < this.count; entry++) {
      let slot = hashAt(ids, entry * OID_BYTES) & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = entry + 1;
    }
    this.ids = ids;
    this.flagBytes = flagBytes;
    this.slots = slots;
    this.mask = mask;
  }
}

function hashAt(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

function equalAt(a: Uint8Array, aAt: number, b: Uint8Array, bAt: number): boolean {
  for (let k = 0; k < OID_BYTES; k++) if (a[aAt + k] !== b[bAt + k]) return false;
  return true;
}

/** Reused for every hex lookup: a key never outlives the call that parses it. */
const hexKey = new Uint8Array(OID_BYTES);

function keyOf(oid: string): Uint8Array | undefined {
  if (oid.length !== 40) return undefined;
  for (let i = 0; i < OID_BYTES; i++) {
    const hi = hexValue(oid.charCodeAt(2 * i));
    const lo = hexValue(oid.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) return undefined;
    hexKey[i] = (hi << 4) | lo;
  }
  return hexKey;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}
