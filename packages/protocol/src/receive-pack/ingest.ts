import {
  FsckError,
  PackFormatError,
  PackIndex,
  commitTreeAndParents,
  fsckObjectLinks,
  indexPack,
  type IndexedPack,
  type ObjectId,
  type ObjectType,
} from '@gitfleet/git-format';
import { OidSet, type ObjectDB } from '@gitfleet/repository';

/** The pack was refused; `message` becomes the "unpack <message>" status line. */
export class UnpackError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UnpackError';
  }
}

export interface IngestOptions {
  maxObjectSize: number;
  /** New ref tips of the push: their types are recorded (refs/heads/* must name commits). */
  tips: ReadonlySet<ObjectId>;
  /** Commits the client declared shallow: their parents may legitimately be absent. */
  shallow: ReadonlySet<ObjectId>;
  onProgress?(phase: 'receiving' | 'resolving', done: number, total: number): void;
}

export interface IngestedPack {
  pack: IndexedPack;
  index: PackIndex;
  /** Type of every tip found in the pack. */
  tipTypes: Map<ObjectId, ObjectType>;
  /** Objects referenced from the pack that neither the pack nor the repository holds. */
  missing: ObjectId[];
  /** Parents of client-shallow commits that are absent: the push would need shallow roots. */
  missingShallowParents: ObjectId[];
}

/** How many existence lookups run at once against the repository. */
const LOOKUP_CONCURRENCY = 32;

/**
 * Indexes a spooled pack (thin-pack bases completed from `objects`), checks every object as
 * `receive.fsckObjects` does, and finds which referenced objects exist nowhere. Objects
 * already in the repository count as connected: only checked packs are ever stored.
 * Throws UnpackError for a pack that must be refused.
 */
export async function ingestPack(objects: ObjectDB, packPath: string, options: IngestOptions): Promise<IngestedPack> {
  // Binary ids: a large pack points at millions of ids, too many for a Set of strings.
  const referenced = new OidSet();
  const shallowParents = new Set<ObjectId>();
  const tipTypes = new Map<ObjectId, ObjectType>();
  // A client-shallow commit's parents must not count as referenced: its tree is added below.
  const ignoreLinks = { addBytes: () => undefined };

  const onObject = (oid: ObjectId, type: ObjectType, data: Buffer): void => {
    const shallowCommit = type === 'commit' && options.shallow.has(oid);
    try {
      fsckObjectLinks(type, data, shallowCommit ? ignoreLinks : referenced);
    } catch (error) {
      if (error instanceof FsckError) throw new UnpackError(`fsck error in packed object ${oid}: ${error.message}`, { cause: error });
      throw error;
    }
    if (options.tips.has(oid)) tipTypes.set(oid, type);
    if (shallowCommit) {
      const { tree, parents } = commitTreeAndParents(data);
      referenced.add(tree);
      for (const parent of parents) shallowParents.add(parent);
    }
  };

  let pack: IndexedPack;
  try {
    pack = await indexPack(packPath, {
      resolveExternal: (oid) => objects.read(oid),
      onObject,
      maxObjectSize: options.maxObjectSize,
      onProgress: options.onProgress,
    });
  } catch (error) {
    if (error instanceof PackFormatError) throw new UnpackError(error.message, { cause: error });
    throw error;
  }
  const index = PackIndex.parse(pack.idx, pack.packSize);
  return {
    pack,
    index,
    tipTypes,
    missing: await missingObjects(objects, index, referenced),
    missingShallowParents: await missingObjects(objects, index, shallowParents),
  };
}

/** The ids that are neither in the new pack nor in the repository. */
async function missingObjects(objects: ObjectDB, pack: PackIndex, ids: Iterable<ObjectId>): Promise<ObjectId[]> {
  const missing: ObjectId[] = [];
  let batch: ObjectId[] = [];
  const lookUp = async () => {
    const present = await Promise.all(batch.map((oid) => objects.has(oid)));
    batch.forEach((oid, i) => {
      if (!present[i]) missing.push(oid);
    });
    batch = [];
  };
  for (const oid of ids) {
    if (pack.find(oid) !== undefined) continue;
    batch.push(oid);
    if (batch.length === LOOKUP_CONCURRENCY) await lookUp();
  }
  await lookUp();
  return missing;
}
