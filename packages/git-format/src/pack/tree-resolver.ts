import type { ObjectType } from '../oid.js';
import { applyDelta, deltaTargetSize } from './delta.js';
import { PACK_TYPE, PackFormatError, objectTypeOfCode } from './entry.js';
import type { DeltaArena } from './delta-arena.js';
import type { DeltaForest } from './delta-forest.js';
import type { EntryTable } from './entry-table.js';
import type { BlockReader } from './file-readers.js';
import { PackLimitExceeded, type ExpansionBudget } from './limits.js';
import { TruncatedInput, inflateEntry, objectIdBytes } from './inflate.js';

/** Bytes of resolved bases kept along the current chain before the oldest are dropped (and rebuilt if needed). */
export const DEFAULT_DELTA_BASE_CACHE_BYTES = 128 << 20;

export interface TreeResolverOptions {
  onObject?(oid: string, type: ObjectType, data: Buffer): void | Promise<void>;
  deltaBaseCacheBytes?: number;
  /** Charged before every inflate and delta application, rebuilt bases included; also checks chain depth. */
  budget: ExpansionBudget;
  /** Called after each delta is resolved. */
  onResolved?(): void;
  /** Polled between deltas: true gives up the tree (another thread met an error in an earlier one). */
  abandoned?(): boolean;
}

/** Thrown out of a tree given up because `abandoned()` said so: not an error of the pack. */
export class TreeAbandoned extends Error {
  override name = 'TreeAbandoned';
}

interface Frame {
  entry: number;
  /** Deltas between this entry and the whole object at the root of its chain. */
  depth: number;
  children: ReturnType<DeltaForest['childCursor']>;
}

/**
 * Resolves the deltas of one tree at a time, from its whole object down, depth first, re-reading
 * each delta from the file by offset. Only the chain being walked is held in memory (and past
 * the base cache limit not even all of it: a dropped base is rebuilt from its own base when a
 * sibling needs it), as git index-pack does. The trees of a pack are disjoint, so several
 * resolvers (one per thread) can share one table, each writing only the entries of its trees.
 */
export class TreeResolver {
  private readonly held = new Map<number, Buffer>();
  private heldBytes = 0;
  private readonly heldLimit: number;

  /** `entriesEnd()`: where the last entry ends (it moves as bases are appended). */
  constructor(
    private readonly reader: BlockReader,
    private readonly table: EntryTable,
    private readonly forest: DeltaForest,
    private readonly deltas: DeltaArena,
    private readonly entriesEnd: () => number,
    private readonly options: TreeResolverOptions,
  ) {
    this.heldLimit = options.deltaBaseCacheBytes ?? DEFAULT_DELTA_BASE_CACHE_BYTES;
  }

  /** Resolves the tree of the whole object stored at `root`. */
  async resolveStoredRoot(root: number): Promise<void> {
    await this.resolveFrom(root, await this.inflateStored(root));
  }

  async resolveFrom(root: number, rootData: Buffer): Promise<void> {
    const table = this.table;
    const stack: Frame[] = [];
    this.push(stack, root, 0, rootData);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const child = this.forest.nextChild(top.children);
      if (child < 0) {
        this.pop(stack);
        continue;
      }
      // Two copies of one base in a pack offer the same ref-deltas twice; the duplicate is refused when the idx is written.
      if (table.types[child] !== 0) continue;
      if (this.options.abandoned?.()) {
        while (stack.length > 0) this.pop(stack);
        throw new TreeAbandoned();
      }
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
      this.options.onResolved?.();

      // The last child no longer needs its parent: drop the parent before descending, which keeps long chains flat.
      if (this.forest.exhausted(top.children)) this.pop(stack);
      if (this.forest.hasChildren(child)) this.push(stack, child, depth, data);
    }
  }

  private push(stack: Frame[], entry: number, depth: number, data: Buffer): void {
    stack.push({ entry, depth, children: this.forest.childCursor(entry) });
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
    const end = entry + 1 < table.count ? table.offsets[entry + 1] : this.entriesEnd();
    const compressed = this.reader.read(start, end - start);
    this.options.budget.charge(table.sizes[entry]);
    try {
      return inflateEntry(compressed, table.sizes[entry], table.offsets[entry]).data;
    } catch (error) {
      if (!(error instanceof TruncatedInput)) throw error;
      throw new PackFormatError(`entry at offset ${table.offsets[entry]} changed after it was read: its zlib data is cut short`);
    }
  }
}
