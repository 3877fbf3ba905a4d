import type { Bitmap, ObjectType } from '@gitfleet/git-format';
import { MissingObjectError } from '../errors.js';
import type { ObjectReader } from '../object-reader.js';
import type { ObjectFilter } from '../reachability/filter.js';
import type { PackBitmaps } from './pack-bitmaps.js';
import { Reached } from './reach-walk.js';

/** Blob headers read at once for blob:limit. */
const HEADER_BATCH = 64;

/**
 * Whether the type bitmaps can apply `filter`: blob:none, blob:limit, tree:0 and object:type
 * drop objects by type (and size), whatever their depth. Deeper tree:<n> filters depend on
 * where an object is first met, which only a walk knows.
 */
export function bitmapsCanFilter(filter: ObjectFilter | undefined): boolean {
  if (!filter) return true;
  if (filter.kind === 'tree') return filter.depth === 0;
  if (filter.kind === 'combine') return filter.filters.every(bitmapsCanFilter);
  return true;
}

/** `reached` less what the filter leaves out (a combined filter keeps what every part keeps). */
export async function applyFilter(reached: Reached, bitmaps: PackBitmaps, objects: ObjectReader, filter: ObjectFilter): Promise<Reached> {
  const types = bitmaps.file.types;
  switch (filter.kind) {
    case 'blob:none':
      reached.bits.andNot(types.blobs);
      return keepOutside(reached, (type) => type !== 'blob');
    case 'tree':
      if (filter.depth !== 0) throw new RangeError(`filter tree:${filter.depth} needs a walk, not bitmaps`);
      reached.bits.andNot(types.trees).andNot(types.blobs);
      return keepOutside(reached, (type) => type !== 'tree' && type !== 'blob');
    case 'object:type': {
      const kept: Record<ObjectType, Bitmap> = { commit: types.commits, tree: types.trees, blob: types.blobs, tag: types.tags };
      reached.bits.and(kept[filter.type]);
      return keepOutside(reached, (type) => type === filter.type);
    }
    case 'blob:limit':
      return dropLargeBlobs(reached, bitmaps, objects, filter.limit);
    case 'combine': {
      let result = reached;
      for (const part of filter.filters) result = await applyFilter(result, bitmaps, objects, part);
      return result;
    }
  }
}

/** A copy of `reached` with only the objects outside the pack that `keep` accepts. */
function keepOutside(reached: Reached, keep: (type: ObjectType, oid: string) => boolean): Reached {
  const result = new Reached(reached.bits);
  for (let entry = 0; entry < reached.outside.size; entry++) {
    const type = reached.outsideType(entry);
    // Only a request no filter applies to takes a pack whole (markWholePack).
    if (type === undefined) throw new Error(`object ${reached.outside.oidAt(entry)}: a filter needs its type, which was not read`);
    if (!keep(type, reached.outside.oidAt(entry))) continue;
    const added = result.outside.addBytes(reached.outside.bytesAt(entry), 0, reached.outside.flags(entry));
    if (added < 0) throw new Error(`object ${reached.outside.oidAt(entry)} listed twice`);
  }
  return result;
}

/** Drops blobs of `limit` bytes or more: sizes from entry headers, read only for the blobs reached. */
async function dropLargeBlobs(reached: Reached, bitmaps: PackBitmaps, objects: ObjectReader, limit: number): Promise<Reached> {
  const blobs = reached.bits.clone().and(bitmaps.file.types.blobs).setBits();
  for (let i = 0; i < blobs.length; i += HEADER_BATCH) {
    const batch = Array.from(blobs.subarray(i, i + HEADER_BATCH), (position) => bitmaps.positions.oidAt(position));
    const sizes = await blobSizes(objects, batch);
    for (let j = 0; j < batch.length; j++) if (sizes[j] >= limit) reached.bits.clear(blobs[i + j]);
  }
  const outsideBlobs: string[] = [];
  for (let entry = 0; entry < reached.outside.size; entry++) {
    if (reached.outsideType(entry) === 'blob') outsideBlobs.push(reached.outside.oidAt(entry));
  }
  const large = new Set<string>();
  for (let i = 0; i < outsideBlobs.length; i += HEADER_BATCH) {
    const batch = outsideBlobs.slice(i, i + HEADER_BATCH);
    const sizes = await blobSizes(objects, batch);
    batch.forEach((oid, j) => sizes[j] >= limit && large.add(oid));
  }
  return large.size === 0 ? reached : keepOutside(reached, (_type, oid) => !large.has(oid));
}

async function blobSizes(objects: ObjectReader, oids: readonly string[]): Promise<number[]> {
  const headers = await Promise.all(oids.map((oid) => objects.header(oid)));
  return headers.map((header, i) => {
    if (!header) throw new MissingObjectError(oids[i], 'blob reached through a bitmap');
    return header.size;
  });
}
