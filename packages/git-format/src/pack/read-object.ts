import type { ObjectId, ObjectType } from '../oid.js';
import { applyDelta, deltaTargetSize } from './delta.js';
import { PackFormatError, parseEntryHeader } from './entry.js';
import type { PackIndex } from './index-file.js';
import { inflateEntry } from './inflate.js';
import type { ExpansionBudget } from './limits.js';
import type { PackFile } from './pack-file.js';

/**
 * Reads one object of a local, indexed pack (a push's own pack, checked after indexing), its
 * delta chain applied base first. Every inflate and delta application is charged to `budget`
 * first, and the chain may be at most as deep as its limits allow (which the indexer has
 * already enforced: a longer one is a corrupt pack).
 */
export async function readPackedObject(
  file: Pick<PackFile, 'read'>,
  index: PackIndex,
  oid: ObjectId,
  budget: ExpansionBudget,
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
    budget.charge(header.size);
    const { data } = inflateEntry(raw.subarray(header.headerLength), header.size, offset);
    if (header.kind === 'object') {
      let result = data;
      for (let i = deltas.length - 1; i >= 0; i--) {
        budget.charge(deltaTargetSize(deltas[i]));
        result = applyDelta(result, deltas[i]);
      }
      return { type: header.type, data: result };
    }
    deltas.push(data);
    budget.checkDepth(deltas.length, offset);
    if (header.kind === 'ofs-delta') {
      offset = header.baseOffset;
    } else {
      const base = index.find(header.baseOid);
      if (base === undefined) throw new PackFormatError(`object ${oid}: delta base ${header.baseOid} is not in the pack`);
      offset = base;
    }
  }
}
