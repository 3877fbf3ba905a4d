// What test/helpers/wire.ts (hand-made wire data) does not have: deltas of any shape, and ids
// of objects too large to hold in memory.
import { createHash } from 'node:crypto';
import { encodeDeltaCopy, MAX_DELTA_COPY } from '../../../packages/git-format/src/index.js';
import { sizeVarint, type ObjectType } from '../../../packages/test-support/src/wire.js';

/** A git delta (base size, result size, then copy and insert opcodes). */
export class DeltaBuilder {
  private readonly ops: number[] = [];
  private resultSize = 0;

  constructor(private readonly baseSize: number) {}

  insert(bytes: Buffer): this {
    for (let at = 0; at < bytes.length; at += 0x7f) {
      const piece = bytes.subarray(at, at + 0x7f);
      this.ops.push(piece.length, ...piece);
      this.resultSize += piece.length;
    }
    return this;
  }

  copy(offset: number, length: number): this {
    if (offset + length > this.baseSize || length < 1 || length > 0xffffff)
      throw new Error(`copy ${offset}+${length} out of a base of ${this.baseSize}`);
    encodeDeltaCopy(offset, length, this.ops);
    this.resultSize += length;
    return this;
  }

  /** `count` copies of the base's first 64 KiB: one byte each, the largest expansion git's format allows per byte. */
  repeatShortCopies(count: number): this {
    if (this.baseSize < MAX_DELTA_COPY) throw new Error(`a short copy needs a base of at least ${MAX_DELTA_COPY} bytes`);
    for (let i = 0; i < count; i++) encodeDeltaCopy(0, MAX_DELTA_COPY, this.ops);
    this.resultSize += count * MAX_DELTA_COPY;
    return this;
  }

  get size(): number {
    return this.resultSize;
  }

  build(): Buffer {
    return Buffer.concat([sizeVarint(this.baseSize), sizeVarint(this.resultSize), Buffer.from(this.ops)]);
  }
}

/** An object id computed from its content given in pieces (the content may be far larger than memory allows at once). */
export function largeObjectId(type: ObjectType, size: number, pieces: Iterable<Buffer>): string {
  const hash = createHash('sha1').update(`${type} ${size}\0`);
  let seen = 0;
  for (const piece of pieces) {
    hash.update(piece);
    seen += piece.length;
  }
  if (seen !== size) throw new Error(`object content is ${seen} bytes, declared ${size}`);
  return hash.digest('hex');
}

/** A tree of blobs (100644), entries in git's order. */
export function treeOf(files: ReadonlyArray<{ name: string; oid: string }>): Buffer {
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return Buffer.concat(sorted.map((file) => Buffer.concat([Buffer.from(`100644 ${file.name}\0`), Buffer.from(file.oid, 'hex')])));
}

export function commitOf(treeOid: string, message: string): Buffer {
  const who = 'Hostile <hostile@example.test> 1700000000 +0000';
  return Buffer.from(`tree ${treeOid}\nauthor ${who}\ncommitter ${who}\n\n${message}\n`);
}
