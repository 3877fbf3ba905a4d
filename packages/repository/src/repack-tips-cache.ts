import type { ObjectId, PackIndex } from '@gitfleet/git-format';
import { LoadedSidecarCache, sidecarLoader } from './sidecar-cache.js';

/**
 * The sidecar of each layer a full repack writes, naming the tips it was written for:
 * `<checksum>.tips`, the clone pack's 20-byte checksum, then the distinct 20-byte tip ids in
 * ascending order. On the clone pack (kind `repack`) they are the clone tips, whose reach is
 * exactly the pack's objects, and the checksum its own; on the rest pack (kind `repack-rest`),
 * the tips of both layers, whose reach is exactly both packs. A request that wants all the tips
 * of a layer takes its pack whole, without reading its bitmaps or walking its history.
 */
export const REPACK_TIPS_SIDECAR = 'tips';

/** What the sidecar says: the clone pack, and the tips a layer was written for. */
export interface RepackTips {
  clonePack: string;
  tips: ReadonlySet<ObjectId>;
}

/** The layers of the repository's latest full repack, as their sidecars name them. */
export interface RepackLayers {
  /** The clone pack (the bitmapped one). */
  clonePack: string;
  /** What a clone asks for to take the clone pack whole; undefined for a clone pack written before these were recorded. */
  cloneTips?: ReadonlySet<ObjectId>;
  /** The rest pack written with it, if any: the tips of both layers, and its idx, loaded only when a request wants every tip. */
  rest?: { tips: ReadonlySet<ObjectId>; index(): Promise<PackIndex> };
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

/** The tips of a layer, or undefined, after a warning, when they are missing or corrupt: requests then walk the history. */
export const loadRepackTips = sidecarLoader(REPACK_TIPS_SIDECAR, 'repack tips', 'walking the history instead', decodeRepackTips);

/** Loaded repack tips by pack, shared by the repositories of a process. */
export class RepackTipsCache extends LoadedSidecarCache<RepackTips> {
  constructor(maxBytes = 16 * 1024 * 1024) {
    super(maxBytes, BYTES_PER_OBJECT, loadRepackTips);
  }
}

/** The repack tips cache of stores that configure none. */
export const sharedRepackTipsCache = new RepackTipsCache();
