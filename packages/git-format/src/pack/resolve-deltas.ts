import type { FileHandle } from 'node:fs/promises';
import zlib from 'node:zlib';
import type { ObjectType } from '../oid.js';
import { crc32 } from './crc32.js';
import { applyDelta, deltaTargetSize } from './delta.js';
import { PACK_TYPE, PackFormatError, encodeEntryHeader, objectTypeOfCode } from './entry.js';
import type { DeltaArena } from './delta-arena.js';
import type { EntryTable } from './entry-table.js';
import { PackLimitExceeded, type ExpansionBudget } from './limits.js';
import { BlockReader } from './file-readers.js';
import { TruncatedInput, inflateEntry, objectIdBytes } from './inflate.js';

export interface ResolveOptions {
  resolveExternal(oid: string): Promise<{ type: ObjectType; data: Buffer } | undefined>;
  onObject?(oid: string, type: ObjectType, data: Buffer): void | Promise<void>;
  onProgress?(phase: 'receiving' | 'resolving', done: number, total: number): void;
  deltaBaseCacheBytes?: number;
  /** Charged before every inflate and delta application, rebuilt bases included; also checks chain depth. */
  budget: ExpansionBudget;
}

/** Bytes of resolved bases kept along the current chain before the oldest are dropped (and rebuilt if needed). */
export const DEFAULT_DELTA_BASE_CACHE_BYTES = 128 << 20;

interface Frame {
  entry: number;
  /** Deltas between this entry and the whole object at the root of its chain. */
  depth: number;
  ofsNext: number;
  ofsEnd: number;
  refNext: number;
  refEnd: number;
}

/**
 * Pass two: resolves every delta, walking from each whole object down the tree of deltas
 * built on it, depth first, re-reading each delta from the file by offset. Only the chain
 * being walked is held in memory (and past BASE_CACHE_LIMIT not even all of it: a dropped
 * base is rebuilt from its own base when a sibling needs it), as git index-pack does.
 * Ref-delta bases that the pack lacks come from `resolveExternal` and are appended to the
 * file as whole objects. Returns how many were appended and where the entries now end.
 */
export async function resolveDeltas(
  file: FileHandle,
  table: EntryTable,
  deltas: DeltaArena,
  dataEnd: number,
  options: ResolveOptions,
): Promise<{ appended: number; end: number }> {
  const resolver = new DeltaResolver(file, table, deltas, dataEnd, options);
  await resolver.run();
  return { appended: resolver.appended, end: resolver.end };
}

class DeltaResolver {
  appended = 0;
  /** Where the entries end: the trailer's offset until bases are appended over it. */
  end: number;
  private readonly reader: BlockReader;
  private readonly inPackCount: number;
  private readonly ofsChildStart: Uint32Array;
  private readonly ofsChildren: Uint32Array;
  /** Ref-delta entry numbers sorted by base id, so that a base finds its deltas by binary search. */
  private readonly refOrder: Uint32Array;
  private readonly held = new Map<number, Buffer>();
  private heldBytes = 0;
  private readonly heldLimit: number;
  private readonly deltaTotal: number;
  private resolvedDeltas = 0;

  constructor(
    private readonly file: FileHandle,
    private readonly table: EntryTable,
    private readonly deltas: DeltaArena,
    dataEnd: number,
    private readonly options: ResolveOptions,
  ) {
    this.end = dataEnd;
    this.heldLimit = options.deltaBaseCacheBytes ?? DEFAULT_DELTA_BASE_CACHE_BYTES;
    this.reader = new BlockReader(file);
    const count = table.count;
    this.inPackCount = count;

    const childStart = new Uint32Array(count + 1);
    let refCount = 0;
    for (let i = 0; i < count; i++) {
      if (table.codes[i] === PACK_TYPE.ofsDelta) childStart[table.bases[i] + 1]++;
      else if (table.codes[i] === PACK_TYPE.refDelta) refCount++;
    }
    for (let i = 0; i < count; i++) childStart[i + 1] += childStart[i];
    const fill = childStart.slice(0, count);
    const children = new Uint32Array(childStart[count]);
    const refOrder = new Uint32Array(refCount);
    let r = 0;
    for (let i = 0; i < count; i++) {
      if (table.codes[i] === PACK_TYPE.ofsDelta) children[fill[table.bases[i]]++] = i;
      else if (table.codes[i] === PACK_TYPE.refDelta) refOrder[r++] = i;
    }
    const refBases = table.refBases;
    if (refBases !== undefined) refOrder.sort((a, b) => compareIds(refBases, 20 * a, refBases, 20 * b));
    this.ofsChildStart = childStart;
    this.ofsChildren = children;
    this.refOrder = refOrder;
    this.deltaTotal = children.length + refCount;
  }

  async run(): Promise<void> {
    const table = this.table;
    for (let i = 0; i < this.inPackCount; i++) {
      if (table.codes[i] < PACK_TYPE.ofsDelta && this.hasChildren(i)) await this.resolveFrom(i, await this.inflateStored(i));
    }
    const refBases = this.table.refBases;
    for (const entry of this.refOrder) {
      if (table.types[entry] !== 0 || refBases === undefined) continue;
      const root = await this.appendExternalBase(refBases.toString('hex', 20 * entry, 20 * entry + 20), entry);
      await this.resolveFrom(root.entry, root.data);
    }
    for (let i = 0; i < this.inPackCount; i++) {
      if (table.types[i] === 0) {
        throw new PackFormatError(
          `delta at offset ${table.offsets[i]} cannot be resolved: its chain of bases never reaches a whole object`,
        );
      }
    }
  }

  private async resolveFrom(root: number, rootData: Buffer): Promise<void> {
    const table = this.table;
    const stack: Frame[] = [];
    this.push(stack, root, 0, rootData);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const child = this.nextChild(top);
      if (child < 0) {
        this.pop(stack);
        continue;
      }
      // Two copies of one base in a pack offer the same ref-deltas twice; the duplicate is refused when the idx is written.
      if (table.types[child] !== 0) continue;
      const depth = top.depth + 1;
      this.options.budget.checkDepth(depth, table.offsets[child]);
      const base = await this.dataOf(top.entry);
      const data = await this.rebuild(child, base);
      const oid = objectIdBytes(table.types[top.entry], data);
      oid.copy(table.oids, 20 * child);
      table.types[child] = table.types[top.entry];
      table.bases[child] = top.entry;
      const pending = this.options.onObject?.(oid.toString('hex'), objectTypeOfCode(table.types[child])!, data);
      if (pending) await pending;
      this.resolvedDeltas++;
      this.options.onProgress?.('resolving', this.resolvedDeltas, this.deltaTotal);

      // The last child no longer needs its parent: drop the parent before descending, which keeps long chains flat.
      if (top.ofsNext === top.ofsEnd && top.refNext === top.refEnd) this.pop(stack);
      if (this.hasChildren(child)) this.push(stack, child, depth, data);
    }
  }

  private hasChildren(entry: number): boolean {
    if (entry < this.inPackCount && this.ofsChildStart[entry + 1] > this.ofsChildStart[entry]) return true;
    const [from, to] = this.refRange(entry);
    return to > from;
  }

  private nextChild(frame: Frame): number {
    if (frame.ofsNext < frame.ofsEnd) return this.ofsChildren[frame.ofsNext++];
    if (frame.refNext < frame.refEnd) return this.refOrder[frame.refNext++];
    return -1;
  }

  private push(stack: Frame[], entry: number, depth: number, data: Buffer): void {
    const [refNext, refEnd] = this.refRange(entry);
    const hasOfs = entry < this.inPackCount;
    stack.push({
      entry,
      depth,
      ofsNext: hasOfs ? this.ofsChildStart[entry] : 0,
      ofsEnd: hasOfs ? this.ofsChildStart[entry + 1] : 0,
      refNext,
      refEnd,
    });
    this.hold(entry, data);
    for (let k = 0; this.heldBytes > this.heldLimit && k < stack.length - 1; k++) this.release(stack[k].entry);
  }

  private pop(stack: Frame[]): void {
    const frame = stack.pop();
    if (frame !== undefined) this.release(frame.entry);
  }

  private hold(entry: number, data: Buffer): void {
    this.held.set(entry, data);
    this.heldBytes += data.length;
  }

  private release(entry: number): void {
    const data = this.held.get(entry);
    if (data === undefined) return;
    this.held.delete(entry);
    this.heldBytes -= data.length;
  }

  /** The content of a resolved entry: held, or rebuilt from the nearest held (or whole) ancestor. */
  private async dataOf(entry: number): Promise<Buffer> {
    const held = this.held.get(entry);
    if (held !== undefined) return held;
    const chain: number[] = [];
    let e = entry;
    while (!this.held.has(e) && this.table.codes[e] >= PACK_TYPE.ofsDelta) {
      chain.push(e);
      e = this.table.bases[e];
    }
    let data = this.held.get(e) ?? (await this.inflateStored(e));
    for (let k = chain.length - 1; k >= 0; k--) data = await this.rebuild(chain[k], data);
    this.hold(entry, data);
    return data;
  }

  /** Applies the delta stored at `entry` to its base's content. */
  private async rebuild(entry: number, base: Buffer): Promise<Buffer> {
    const delta = this.deltas.get(entry) ?? (await this.inflateStored(entry));
    try {
      this.options.budget.charge(deltaTargetSize(delta));
      return applyDelta(base, delta);
    } catch (error) {
      if (!(error instanceof PackFormatError) || error instanceof PackLimitExceeded) throw error;
      throw new PackFormatError(`delta at offset ${this.table.offsets[entry]}: ${error.message}`);
    }
  }

  private async inflateStored(entry: number): Promise<Buffer> {
    const table = this.table;
    const start = table.offsets[entry] + table.headerLengths[entry];
    const end = entry + 1 < table.count ? table.offsets[entry + 1] : this.end;
    const compressed = this.reader.read(start, end - start);
    this.options.budget.charge(table.sizes[entry]);
    try {
      return inflateEntry(compressed, table.sizes[entry], table.offsets[entry]).data;
    } catch (error) {
      if (!(error instanceof TruncatedInput)) throw error;
      throw new PackFormatError(`entry at offset ${table.offsets[entry]} changed after it was read: its zlib data is cut short`);
    }
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

  /** Completes a thin pack: fetches a missing base, checks its id, and appends it as a whole object. */
  private async appendExternalBase(oid: string, neededBy: number): Promise<{ entry: number; data: Buffer }> {
    const found = await this.options.resolveExternal(oid);
    if (found === undefined) {
      throw new PackFormatError(
        `ref-delta at offset ${this.table.offsets[neededBy]} needs base ${oid}, which is neither in the pack nor in the repository`,
      );
    }
    this.options.budget.charge(found.data.length);
    const code = PACK_TYPE[found.type];
    const id = objectIdBytes(code, found.data);
    if (id.toString('hex') !== oid) throw new Error(`resolveExternal(${oid}) returned a ${found.type} whose id is ${id.toString('hex')}`);
    const header = encodeEntryHeader({ kind: 'object', type: found.type, size: found.data.length });
    const bytes = Buffer.concat([header, zlib.deflateSync(found.data)]);
    await writeFully(this.file, bytes, this.end);
    this.reader.invalidateFrom(this.end);
    const entry = this.table.add(this.end, header.length, code, found.data.length, crc32(bytes));
    id.copy(this.table.oids, 20 * entry);
    this.table.types[entry] = code;
    this.end += bytes.length;
    this.appended++;
    return { entry, data: found.data };
  }
}

async function writeFully(file: FileHandle, bytes: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await file.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}

function compareIds(a: Uint8Array, aAt: number, b: Uint8Array, bAt: number): number {
  for (let k = 0; k < 20; k++) {
    const d = a[aAt + k] - b[bAt + k];
    if (d !== 0) return d;
  }
  return 0;
}
