import { objectTypeOfCode, PACK_TYPE, type ObjectType, type PackIndex } from '@gitfleet/git-format';

/**
 * The types of pack entries learnt by walking their delta chains, or from the indexing of a pack
 * this process stored, a byte per entry of each pack index they were learnt in. A push's
 * connectivity check asks the type of every object its trees name outside the pack (hundreds in
 * a large tree): mostly the same ones push after push, often in the packs pushed just before.
 * Kept beside the parsed index (a WeakMap) and dropped with it, so it is bounded by the index
 * cache, at one byte per object next to the index's 28 or more.
 */
export class EntryTypeMemo {
  private readonly byIndex = new WeakMap<PackIndex, Uint8Array>();

  /** The type of the entry at `offset` of the pack `index` describes, when known. */
  get(index: PackIndex, offset: number): ObjectType | undefined {
    const codes = this.byIndex.get(index);
    return codes && objectTypeOfCode(codes[index.positionInPackOrder(offset)]);
  }

  /** Every entry's type at once, from the indexing of a pack this process stores (type codes in pack order). */
  learnPack(index: PackIndex, typeCodes: Uint8Array): void {
    if (typeCodes.length === index.objectCount) this.byIndex.set(index, typeCodes);
  }

  set(index: PackIndex, offset: number, type: ObjectType): void {
    let codes = this.byIndex.get(index);
    if (!codes) this.byIndex.set(index, (codes = new Uint8Array(index.objectCount)));
    codes[index.positionInPackOrder(offset)] = PACK_TYPE[type];
  }
}

/** One memo for the process: it is keyed by the shared parsed indexes, so every repository's reader can use it. */
export const sharedEntryTypeMemo = new EntryTypeMemo();
