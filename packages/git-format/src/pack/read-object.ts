import type { FileHandle } from 'node:fs/promises';
import type { ObjectId, ObjectType } from '../oid.js';
import { applyDelta } from './delta.js';
import { PackFormatError, parseEntryHeader } from './entry.js';
import type { PackIndex } from './index-file.js';
import { inflateEntry } from './inflate.js';

/**
 * Reads one object of a local, indexed pack (a push's own pack, checked after indexing), its
 * delta chain applied base first. The chain may be at most `maxDepth` deltas long, which the
 * indexer has already enforced: a longer one is a corrupt pack.
 */
export async function readPackedObject(
  file: FileHandle,
  index: PackIndex,
  oid: ObjectId,
  maxDepth: number,
): Promise<{ type: ObjectType; data: Buffer } | undefined> {
  let offset = index.find(oid);
  if (offset === undefined) return undefined;
  const deltas: Buffer[] = [];
  for (;;) {
    const end = index.entryEnd(offset);
    const raw = Buffer.allocUnsafe(end - offset);
    const { bytesRead } = await file.read(raw, 0, raw.length, offset);
    if (bytesRead !== raw.length) throw new PackFormatError(`pack ends inside the entry at offset ${offset}`);
    const header = parseEntryHeader(raw, 0, offset);
    const { data } = inflateEntry(raw.subarray(header.headerLength), header.size, offset);
    if (header.kind === 'object') {
      let result = data;
      for (let i = deltas.length - 1; i >= 0; i--) result = applyDelta(result, deltas[i]);
      return { type: header.type, data: result };
    }
    if (deltas.length === maxDepth) throw new PackFormatError(`object ${oid}: delta chain longer than ${maxDepth}`);
    deltas.push(data);
    if (header.kind === 'ofs-delta') {
      offset = header.baseOffset;
    } else {
      const base = index.find(header.baseOid);
      if (base === undefined) throw new PackFormatError(`object ${oid}: delta base ${header.baseOid} is not in the pack`);
      offset = base;
    }
  }
}
