import type { ObjectReader } from '../object-reader.js';
import { CommitReader } from '../reachability/commits.js';
import type { Enumeration, EnumerationOptions, EnumerationRequest } from '../reachability/enumeration.js';
import type { PackBitmaps } from './pack-bitmaps.js';
import { markReached, type ReachWalkContext } from './reach-walk.js';
import { bitmapsCanFilter } from './filter.js';
import { bitmapReachability } from './reachability.js';
import { ReachedObjects } from './reached-objects.js';
import { LoopPacer } from '../loop-pacer.js';

/** Whether a request can be answered from bitmaps: not for a shallow client (it lacks what its haves reach), nor deep tree filters. */
export function bitmapsCanEnumerate(request: EnumerationRequest): boolean {
  return (request.shallow === undefined || request.shallow.size === 0) && bitmapsCanFilter(request.filter);
}

/**
 * enumerateObjects through a pack's bitmaps: the objects as bits of that pack (ReachedObjects,
 * which planPack takes as they are), tags that come along (include-tag) added as git does.
 */
export async function enumerateWithBitmaps(
  objects: ObjectReader,
  bitmaps: PackBitmaps,
  request: EnumerationRequest,
  options: Pick<EnumerationOptions, 'cacheKey' | 'commitGraph' | 'layers'>,
): Promise<Enumeration> {
  const pacer = new LoopPacer();
  const { send, clientHas } = await bitmapReachability(
    objects,
    bitmaps,
    { wants: request.wants, haves: request.haves, filter: request.filter },
    { ...options, pacer },
  );
  const commits = new CommitReader(objects, options.cacheKey, options.commitGraph);
  const context: ReachWalkContext = {
    objects,
    commits,
    positions: bitmaps.positions,
    storedReach: () => undefined,
    allowOutside: true,
    pacer,
  };
  const { positions } = bitmaps;
  for (const tag of request.includeTags ?? []) {
    if (send.has(positions, tag) || clientHas.has(positions, tag)) continue;
    const peeled = await commits.peel(tag);
    if (!peeled || !send.has(positions, peeled.oid)) continue;
    for (const link of peeled.chain) markReached(context, send, undefined, link, 'tag');
  }
  const result = { objects: new ReachedObjects(send, bitmaps), clientHas: new ReachedObjects(clientHas, bitmaps) };
  request.onProgress?.(result.objects.size);
  return result;
}
