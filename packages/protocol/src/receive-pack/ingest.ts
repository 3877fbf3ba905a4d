import { PackIndex, type ObjectId, type ObjectType, type PackLimits } from '@gitfleet/git-format';
import type { ObjectReader } from '@gitfleet/repository';
import { IndexPoolBusy, type PackIndexPool } from './index-pool.js';
import type { SpooledPack } from './spool.js';
import { checkLinkedType, LinkTypeMismatch } from './typed-links.js';

/** The pack was refused; `message` becomes the "unpack <message>" status line. */
export class UnpackError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UnpackError';
  }
}

export interface IngestOptions {
  maxObjectSize: number;
  limits: PackLimits;
  /** New ref tips of the push: their types are recorded (refs/heads/* must name commits). */
  tips: ReadonlySet<ObjectId>;
  /** Commits the client declared shallow: their parents may legitimately be absent. */
  shallow: ReadonlySet<ObjectId>;
  pool: PackIndexPool;
  onProgress?(phase: 'receiving' | 'resolving', done: number, total: number): void;
}

/** What receive-pack needs of an indexed pack. */
export interface IngestedPack {
  /** The pack indexed, completed if it was thin: what to store. */
  pack: SpooledPack;
  checksum: ObjectId;
  packSize: number;
  idx: Buffer;
  /** Objects appended to complete a thin pack. */
  appendedBases: number;
  index: PackIndex;
  /** Type of every tip found in the pack. */
  tipTypes: Map<ObjectId, ObjectType>;
  /** Objects referenced from the pack that neither the pack nor the repository holds. */
  missing: ObjectId[];
  /** Parents of client-shallow commits that are absent: the push would need shallow roots. */
  missingShallowParents: ObjectId[];
  /** Each entry's object type code, in pack order. */
  typeCodes: Uint8Array;
}

/** How many existence lookups run at once against the repository. */
const LOOKUP_CONCURRENCY = 32;

/**
 * Indexes a spooled pack through the index pool (thin-pack bases completed from `objects`, every
 * object checked as `receive.fsckObjects` does, the limits enforced as it expands), then finds
 * which referenced objects exist nowhere. Objects already in the repository count as
 * connected: only checked packs are ever stored. Throws UnpackError for a pack that must be refused.
 */
export async function ingestPack(objects: ObjectReader, pack: SpooledPack, options: IngestOptions): Promise<IngestedPack> {
  let outcome;
  try {
    outcome = await options.pool.index({
      pack,
      maxObjectSize: options.maxObjectSize,
      limits: options.limits,
      tips: [...options.tips],
      shallow: [...options.shallow],
      readObject: (oid) => objects.read(oid),
      onProgress: options.onProgress,
    });
  } catch (error) {
    if (error instanceof IndexPoolBusy) throw new UnpackError(error.message, { cause: error });
    throw error;
  }
  if (!outcome.ok) throw new UnpackError(outcome.reason);
  const idx = Buffer.from(outcome.idx.buffer, outcome.idx.byteOffset, outcome.idx.byteLength);
  const links = Buffer.from(outcome.outsideLinks.buffer, outcome.outsideLinks.byteOffset, outcome.outsideLinks.byteLength);
  const outside = Array.from({ length: links.length / 20 }, (_, i) => links.toString('hex', 20 * i, 20 * i + 20));
  const missing = await absentOrOfTypes(objects, outside, outcome.outsideLinkTypes);
  return {
    pack,
    checksum: outcome.checksum,
    packSize: outcome.packSize,
    idx,
    appendedBases: outcome.appendedBases,
    index: PackIndex.parse(idx, outcome.packSize),
    tipTypes: new Map(outcome.tipTypes),
    missing,
    missingShallowParents: await absent(objects, outcome.outsideShallowParents),
    typeCodes: outcome.typeCodes,
  };
}

/**
 * The ids the repository does not hold; throws UnpackError when it holds one as another type
 * than its links expect (`expected[i]`, a TypedLinks mask).
 */
async function absentOrOfTypes(objects: ObjectReader, ids: readonly ObjectId[], expected: Uint8Array): Promise<ObjectId[]> {
  const missing: ObjectId[] = [];
  await lookUpEach(
    ids,
    (oid) => objects.type(oid),
    (oid, type, i) => {
      if (type === undefined) missing.push(oid);
      else checkType(oid, expected[i], type);
    },
  );
  return missing;
}

function checkType(oid: ObjectId, expected: number, found: ObjectType): void {
  try {
    checkLinkedType(oid, expected, found);
  } catch (error) {
    if (error instanceof LinkTypeMismatch) throw new UnpackError(error.message, { cause: error });
    throw error;
  }
}

/** The ids the repository does not hold. */
async function absent(objects: ObjectReader, ids: readonly ObjectId[]): Promise<ObjectId[]> {
  const missing: ObjectId[] = [];
  await lookUpEach(
    ids,
    (oid) => objects.has(oid),
    (oid, present) => {
      if (!present) missing.push(oid);
    },
  );
  return missing;
}

/** Looks up LOOKUP_CONCURRENCY ids at a time, visiting each answer in the ids' order; a visit that throws stops the lookups. */
async function lookUpEach<T>(
  ids: readonly ObjectId[],
  lookup: (oid: ObjectId) => Promise<T>,
  visit: (oid: ObjectId, found: T, i: number) => void,
): Promise<void> {
  for (let at = 0; at < ids.length; at += LOOKUP_CONCURRENCY) {
    const batch = ids.slice(at, at + LOOKUP_CONCURRENCY);
    const found = await Promise.all(batch.map(lookup));
    batch.forEach((oid, i) => visit(oid, found[i], at + i));
  }
}
