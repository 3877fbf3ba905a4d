import { PACK_TYPE } from './entry.js';
import type { EntryTable } from './entry-table.js';

/** The columns of a DeltaForest, on shared memory when threads walk it together. */
export interface DeltaForestParts {
  inPackCount: number;
  ofsChildStart: Uint32Array;
  ofsChildren: Uint32Array;
  refOrder: Uint32Array;
}

/**
 * Which deltas are built on each entry: ofs-deltas by their base's entry number, ref-deltas by
 * their base's id (sorted, found by binary search, so a base appended later finds them too).
 * Every delta tree of a pack hangs off one whole object; pass two walks each tree from its root.
 */
export class DeltaForest {
  readonly inPackCount: number;
  private readonly ofsChildStart: Uint32Array;
  private readonly ofsChildren: Uint32Array;
  /** Ref-delta entry numbers sorted by base id. */
  private readonly refOrder: Uint32Array;

  constructor(
    private readonly table: EntryTable,
    parts: DeltaForestParts,
  ) {
    this.inPackCount = parts.inPackCount;
    this.ofsChildStart = parts.ofsChildStart;
    this.ofsChildren = parts.ofsChildren;
    this.refOrder = parts.refOrder;
  }

  /** Builds the forest of the entries scanned so far; `memory` makes its columns (shared ones for threads). */
  static build(table: EntryTable, memory: (bytes: number) => ArrayBufferLike = (bytes) => new ArrayBuffer(bytes)): DeltaForest {
    const count = table.count;
    const childStart = new Uint32Array(memory(4 * (count + 1)));
    let refCount = 0;
    for (let i = 0; i < count; i++) {
      if (table.codes[i] === PACK_TYPE.ofsDelta) childStart[table.bases[i] + 1]++;
      else if (table.codes[i] === PACK_TYPE.refDelta) refCount++;
    }
    for (let i = 0; i < count; i++) childStart[i + 1] += childStart[i];
    const fill = childStart.slice(0, count);
    const children = new Uint32Array(memory(4 * childStart[count]));
    const refOrder = new Uint32Array(memory(4 * refCount));
    let r = 0;
    for (let i = 0; i < count; i++) {
      if (table.codes[i] === PACK_TYPE.ofsDelta) children[fill[table.bases[i]]++] = i;
      else if (table.codes[i] === PACK_TYPE.refDelta) refOrder[r++] = i;
    }
    const refBases = table.refBases;
    if (refBases !== undefined) refOrder.sort((a, b) => compareIds(refBases, 20 * a, refBases, 20 * b));
    return new DeltaForest(table, { inPackCount: count, ofsChildStart: childStart, ofsChildren: children, refOrder });
  }

  get parts(): DeltaForestParts {
    return { inPackCount: this.inPackCount, ofsChildStart: this.ofsChildStart, ofsChildren: this.ofsChildren, refOrder: this.refOrder };
  }

  get deltaCount(): number {
    return this.ofsChildren.length + this.refOrder.length;
  }

  /** Ref-delta entry numbers in base id order: the deltas whose base may be missing from the pack. */
  get refDeltas(): Uint32Array {
    return this.refOrder;
  }

  hasChildren(entry: number): boolean {
    if (entry < this.inPackCount && this.ofsChildStart[entry + 1] > this.ofsChildStart[entry]) return true;
    const [from, to] = this.refRange(entry);
    return to > from;
  }

  /** The whole objects of the pack that deltas are built on, in pack order: the roots pass two starts from. */
  rootsInPack(): number[] {
    const roots: number[] = [];
    for (let i = 0; i < this.inPackCount; i++) {
      if (this.table.codes[i] < PACK_TYPE.ofsDelta && this.hasChildren(i)) roots.push(i);
    }
    return roots;
  }

  /** A cursor over the deltas built on `entry`: ofs-deltas first, then ref-deltas. */
  childCursor(entry: number): ChildCursor {
    const [refNext, refEnd] = this.refRange(entry);
    const hasOfs = entry < this.inPackCount;
    return {
      ofsNext: hasOfs ? this.ofsChildStart[entry] : 0,
      ofsEnd: hasOfs ? this.ofsChildStart[entry + 1] : 0,
      refNext,
      refEnd,
    };
  }

  /** The next child of the cursor, or -1. */
  nextChild(cursor: ChildCursor): number {
    if (cursor.ofsNext < cursor.ofsEnd) return this.ofsChildren[cursor.ofsNext++];
    if (cursor.refNext < cursor.refEnd) return this.refOrder[cursor.refNext++];
    return -1;
  }

  exhausted(cursor: ChildCursor): boolean {
    return cursor.ofsNext === cursor.ofsEnd && cursor.refNext === cursor.refEnd;
  }

  /** Deltas waiting for the object `entry` as a ref-delta base: [from, to) in refOrder. */
  private refRange(entry: number): [number, number] {
    const refBases = this.table.refBases;
    if (refBases === undefined || this.refOrder.length === 0) return [0, 0];
    const oids = this.table.oids;
    const at = 20 * entry;
    const bound = (strict: boolean): number => {
      let lo = 0;
      let hi = this.refOrder.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const cmp = compareIds(refBases, 20 * this.refOrder[mid], oids, at);
        if (cmp < 0 || (!strict && cmp === 0)) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    return [bound(true), bound(false)];
  }
}

export interface ChildCursor {
  ofsNext: number;
  ofsEnd: number;
  refNext: number;
  refEnd: number;
}

function compareIds(a: Uint8Array, aAt: number, b: Uint8Array, bAt: number): number {
  for (let k = 0; k < 20; k++) {
    const d = a[aAt + k] - b[bAt + k];
    if (d !== 0) return d;
  }
  return 0;
}
