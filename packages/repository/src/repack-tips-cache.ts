import type { ObjectId, PackIndex } from '@gitfleet/git-format';
import { LoadedSidecarCache, sidecarLoader } from './sidecar-cache.js';

/**
 * The sidecar of a full repack's rest pack (kind `repack-rest`) that names the clone pack written
 * with it and every ref tip the repack started from, both layers': `<checksum>.tips`, the clone
 * pack's 20-byte checksum, then the distinct 20-byte tip ids in ascending order. A request that
 * wants all of those tips wants every object of both packs, which it then takes without walking
 * the history in between.
 */
export const REPACK_TIPS_SIDECAR = 'tips';

/** What the sidecar says: the clone pack, and the tips of both layers. */
export interface RepackTips {
  clonePack: string;
  tips: ReadonlySet<ObjectId>;
}

/** A full repack's rest pack, with its sidecar. */
export interface RepackLayers extends RepackTips {
  /** The rest pack's idx, loaded when asked for: only a clone that wants every tip needs it. */
  restIndex(): Promise<PackIndex>;
}

const OID_BYTES = 20;
/** What a loaded set of tips costs, per object of the pack: a pull request's tip names a few hundred objects of history. */
const BYTES_PER_OBJECT = 1;

export function encodeRepackTips({ clonePack, tips }: RepackTips): Buffer {
  const sorted = [...tips].sort();
  const bytes = Buffer.alloc(OID_BYTES * (1 + sorted.length));
  bytes.write(clonePack, 0, 'hex');
  sorted.forEach((oid, i) => bytes.write(oid, OID_BYTES * (1 + i), 'hex'));
  return bytes;
}

/** An encoded sidecar's contents; throws a RangeError for bytes that are not one. */
export function decodeRepackTips(bytes: Buffer): RepackTips {
  if (bytes.length === 0 || bytes.length % OID_BYTES !== 0) throw new RangeError(`${bytes.length} bytes are no clone pack and tips`);
  const tips = new Set<ObjectId>();
  let previous = '';
  for (let at = OID_BYTES; at < bytes.length; at += OID_BYTES) {
    const oid = bytes.toString('hex', at, at + OID_BYTES);
    if (oid <= previous) throw new RangeError(`object id ${oid} out of order`);
    tips.add(oid);
    previous = oid;
  }
  return { clonePack: bytes.toString('hex', 0, OID_BYTES), tips };
}

/** The tips of a rest pack, or undefined, after a warning, when they are missing or corrupt: requests then walk the history. */
export const loadRepackTips = sidecarLoader(REPACK_TIPS_SIDECAR, 'repack tips', 'walking the history instead', decodeRepackTips);

/** Loaded repack tips by pack, shared by the repositories of a process. */
export class RepackTipsCache extends LoadedSidecarCache<RepackTips> {
  constructor(maxBytes = 16 * 1024 * 1024) {
    super(maxBytes, BYTES_PER_OBJECT, loadRepackTips);
  }
}

/** The repack tips cache of stores that configure none. */
export const sharedRepackTipsCache = new RepackTipsCache();
