/**
 * Rebuilds, into a KV store that lost them, the repository registry, every repository's refs,
 * HEAD and pack registry, from the blob store alone: the journal's checkpoints and entries, and
 * the packs stored.
 *
 * The pack registry is rebuilt from the packs that EXIST in the blob store (a `.pack` with its
 * `.idx`, or a joined `.packidx`), not from a journal of pack-list changes: maintenance retires and deletes packs on its
 * own schedule, so a journaled list could name packs deleted since, while the blobs present are
 * by construction readable. Every pack found is registered active, retired ones included: a
 * retired pack's objects are all in its replacements, so keeping it active only duplicates
 * objects until the next maintenance replaces it, whereas retiring one whose replacement is
 * gone would lose objects. Packs a push stored but never referenced become active too: their
 * objects are valid, merely unreachable. What the journal knows of a pack (its kind, creation
 * time, object count) is kept; a pack it does not know is described from its blobs.
 *
 * Each repository's Git LFS object records and locks come back from its LFS blobs (recover-lfs.ts).
 */
import { PackFormatError, packIndexSize, parsePackHeader } from '@gitfleet/git-format';
import { mapConcurrently, type BlobStore, type CasOp, type KVEntry, type KVStore } from '@gitfleet/storage';
import {
  HEAD_KEY,
  JOURNAL_SEQ_KEY,
  REGISTRY_JOURNAL_LAST_KEY,
  REGISTRY_SCOPE,
  JOINED_PACK_EXTENSION,
  REPO_KEY_PREFIX,
  idxBlobKey,
  joinedPackBlobKey,
  journalBlobPrefix,
  packKey,
  packsBlobPrefix,
  parseJournalKey,
  parsePackBlobName,
  refKey,
  repositoryScope,
  type PackKind,
  type PackLayout,
  type PackRecord,
} from '../keys.js';
import { REPACK_TIPS_SIDECAR } from '../repack-tips-cache.js';
import {
  CorruptJournalBlob,
  JOURNAL_FORMAT,
  encodeJournalBlob,
  parseRefCheckpoint,
  parseRefTransaction,
  parseRegistryCheckpoint,
  parseRegistryEntry,
} from './format.js';
import type { LfsLock } from '../lfs-locks.js';
import { recoverLfsState } from './recover-lfs.js';
import { replayRefJournal, replayRegistryJournal, type JournaledPack, type ReplayedRepository } from './replay.js';

/** Keys per compare-and-swap while writing a scope: one call carries every key of it. */
const WRITE_BATCH = 500;
/** Repositories recovered at once: on S3 each is a few listings and reads, mostly waiting. */
const CONCURRENCY = 8;
/** Where an idx v2's object count lies: the last fan-out entry, after the 8-byte header. */
const IDX_OBJECT_COUNT = { start: 8 + 255 * 4, end: 8 + 256 * 4 };

export interface RecoveryOptions {
  /** Write into scopes that already hold keys (their keys are overwritten where recovery writes them). */
  force?: boolean;
  onProgress?(progress: RecoveryProgress): void;
}

export interface RecoveryProgress {
  repositoriesDone: number;
  repositoriesTotal: number;
}

export interface RecoverySummary {
  repositories: number;
  refs: number;
  packs: number;
  /** Journal entries read (registry and repositories), checkpoints not counted. */
  entriesRead: number;
  checkpointsRead: number;
  /** Transactions committed in the KV store but never journaled (never acknowledged), skipped. */
  gaps: Array<{ repository?: string; seq: number }>;
  /** Repositories the registry names that have no journal at all (HEAD set to refs/heads/main). */
  withoutJournal: string[];
  /** Git LFS objects found stored and recorded, and the sum of their sizes. */
  lfsObjects: number;
  lfsBytes: number;
  /** Git LFS locks restored from their blobs. */
  lfsLocks: number;
  /** Locks not restored: an earlier lock restored holds a path that folds alike (which locking never lets happen). */
  lfsLockConflicts: Array<{ repository: string; lock: LfsLock; heldBy: LfsLock }>;
}

/** The KV store holds keys where recovery would write: it is not the empty store recovery expects. */
export class RecoveryTargetNotEmpty extends Error {
  override name = 'RecoveryTargetNotEmpty';
}

export async function recoverFromJournal(
  stores: { blobs: BlobStore; kv: KVStore },
  options: RecoveryOptions = {},
): Promise<RecoverySummary> {
  const { blobs, kv } = stores;
  const summary: RecoverySummary = {
    repositories: 0,
    refs: 0,
    packs: 0,
    entriesRead: 0,
    checkpointsRead: 0,
    gaps: [],
    withoutJournal: [],
    lfsObjects: 0,
    lfsBytes: 0,
    lfsLocks: 0,
    lfsLockConflicts: [],
  };
  if (!options.force) await assertEmpty(kv, REGISTRY_SCOPE);

  const registryLog = await readJournal(blobs, undefined, parseRegistryCheckpoint, parseRegistryEntry, summary);
  const registry = replayRegistryJournal(registryLog.checkpoint, registryLog.entries);
  summary.gaps.push(...registry.gaps.map((seq) => ({ seq })));
  const repositories = [...registry.entries]
    .filter(([key]) => key.startsWith(REPO_KEY_PREFIX))
    .map(([, value]) => JSON.parse(value) as { id: string; owner: string; name: string });
  if (!options.force) {
    for (const { id } of repositories) await assertEmpty(kv, repositoryScope(id));
  }

  let done = 0;
  options.onProgress?.({ repositoriesDone: 0, repositoriesTotal: repositories.length });
  await mapConcurrently(repositories, CONCURRENCY, async ({ id, owner, name }) => {
    const log = await readJournal(blobs, id, parseRefCheckpoint, parseRefTransaction, summary);
    const state = replayRefJournal(log.checkpoint, log.entries);
    summary.gaps.push(...state.gaps.map((seq) => ({ repository: `${owner}/${name}`, seq })));
    if (state.head === undefined) summary.withoutJournal.push(`${owner}/${name}`);
    const packs = await storedPacks(blobs, id, state.packs);
    const lfs = await recoverLfsState(blobs, id);
    await writeRepository(kv, id, state, packs, lfs.entries, options.force === true);
    summary.repositories++;
    summary.refs += state.refs.size;
    summary.packs += packs.size;
    summary.lfsObjects += lfs.objects;
    summary.lfsBytes += lfs.bytes;
    summary.lfsLocks += lfs.locks;
    summary.lfsLockConflicts.push(...lfs.refusedLocks.map((refused) => ({ repository: `${owner}/${name}`, ...refused })));
    options.onProgress?.({ repositoriesDone: ++done, repositoriesTotal: repositories.length });
  });

  // The registry last: until it names them, the repositories written above are invisible.
  const registryOps: CasOp[] = [...registry.entries].map(([key, value]) => ({ key, expect: null, value }));
  if (registry.seq > 0) {
    // The next registry transaction settles `journal:last` by writing it under its sequence
    // number: it must be byte for byte the entry stored there, or a stand-in when none is.
    const stored = registryLog.entryBytes.get(registry.seq);
    const last = stored ?? encodeJournalBlob({ format: JOURNAL_FORMAT, seq: registry.seq, time: new Date().toISOString(), changes: [] });
    registryOps.push({ key: REGISTRY_JOURNAL_LAST_KEY, expect: null, value: last.toString('utf8') });
  }
  await writeScope(kv, REGISTRY_SCOPE, registryOps, options.force === true);
  return summary;
}

async function assertEmpty(kv: KVStore, scope: string): Promise<void> {
  const [first] = await kv.scan(scope, '');
  if (first)
    throw new RecoveryTargetNotEmpty(
      `the KV store is not empty: scope ${scope} holds ${first.key} (recovery writes only into an empty KV store)`,
    );
}

interface JournalRead<C, E> {
  checkpoint: C | undefined;
  /** Entries after the checkpoint, by sequence number. */
  entries: E[];
  /** The stored bytes of each entry read. */
  entryBytes: Map<number, Buffer>;
}

/** The newest readable checkpoint and every entry after it; an unreadable entry is an error, an unreadable checkpoint gives way to the one before. */
async function readJournal<C extends { seq: number }, E extends { seq: number }>(
  blobs: BlobStore,
  repositoryId: string | undefined,
  parseCheckpoint: (bytes: Buffer, key: string) => C,
  parseEntry: (bytes: Buffer, key: string) => E,
  summary: RecoverySummary,
): Promise<JournalRead<C, E>> {
  const checkpointKeys: string[] = [];
  const entryKeys: Array<{ key: string; seq: number }> = [];
  for await (const { key } of blobs.list(journalBlobPrefix(repositoryId))) {
    const parsed = parseJournalKey(key);
    if (parsed?.kind === 'checkpoint') checkpointKeys.push(key);
    else if (parsed?.kind === 'entry') entryKeys.push({ key, seq: parsed.seq });
  }
  let checkpoint: C | undefined;
  for (const key of checkpointKeys.reverse()) {
    const bytes = await blobs.get(key);
    try {
      if (bytes) checkpoint = parseCheckpoint(bytes, key);
    } catch (error) {
      if (!(error instanceof CorruptJournalBlob)) throw error;
    }
    if (checkpoint) break;
  }
  if (checkpoint) summary.checkpointsRead++;
  const after = checkpoint?.seq ?? 0;
  const entries: E[] = [];
  const entryBytes = new Map<number, Buffer>();
  for (const { key, seq } of entryKeys) {
    if (seq <= after) continue;
    const bytes = await blobs.get(key);
    if (!bytes) throw new Error(`journal entry ${key} was listed but cannot be read`);
    const entry = parseEntry(bytes, key);
    if (entry.seq !== seq) throw new CorruptJournalBlob(`journal entry ${key} says it is transaction ${entry.seq}`);
    entries.push(entry);
    entryBytes.set(seq, bytes);
    summary.entriesRead++;
  }
  return { checkpoint, entries, entryBytes };
}

/** Every complete pack stored for the repository, described as its registry record. */
async function storedPacks(
  blobs: BlobStore,
  repositoryId: string,
  journaled: Map<string, JournaledPack>,
): Promise<Map<string, PackRecord>> {
  const found = new Map<string, Map<string, number>>();
  const prefix = packsBlobPrefix(repositoryId);
  for await (const { key, size } of blobs.list(prefix)) {
    const parsed = parsePackBlobName(key.slice(prefix.length));
    if (!parsed) continue;
    const sizes = found.get(parsed.checksum) ?? new Map<string, number>();
    sizes.set(parsed.extension, size);
    found.set(parsed.checksum, sizes);
  }
  const records = new Map<string, PackRecord>();
  for (const [checksum, sizes] of found) {
    const known = journaled.get(checksum);
    const stored = await storedPack(blobs, repositoryId, checksum, sizes, known?.objects);
    // A pack whose deletion was under way when the KV store was lost: not to be trusted.
    if (!stored) continue;
    const sidecars = [...sizes.keys()].filter((extension) => !PACK_BYTES_EXTENSIONS.has(extension)).sort();
    const record: PackRecord = {
      size: stored.size,
      objects: stored.objects,
      // Packs the journal does not know (maintenance's since the checkpoint, or never referenced) sort as the oldest.
      createdAt: known?.createdAt ?? new Date(0).toISOString(),
      kind: known?.kind ?? kindBySidecars(sidecars),
    };
    if (sidecars.length > 0) record.sidecars = sidecars;
    if (stored.layout !== undefined) record.layout = stored.layout;
    records.set(checksum, record);
  }
  return records;
}

/** The kind of a pack the journal does not know, from the sidecars that only a full repack writes. */
function kindBySidecars(sidecars: readonly string[]): PackKind {
  if (sidecars.includes('bitmap')) return 'repack';
  if (sidecars.includes(REPACK_TIPS_SIDECAR)) return 'repack-rest';
  return 'compaction';
}

/** Extensions of the blobs that hold a pack's bytes and idx, in either layout; the others are sidecars. */
const PACK_BYTES_EXTENSIONS = new Set(['pack', 'idx', JOINED_PACK_EXTENSION]);

/**
 * A pack's size, object count and layout from the sizes of its blobs by extension; undefined
 * when neither layout is complete. A `.pack` with its `.idx` comes first: a joined blob beside
 * them is what a concurrent push of the same pack stored and did not register.
 */
async function storedPack(
  blobs: BlobStore,
  repositoryId: string,
  checksum: string,
  sizes: ReadonlyMap<string, number>,
  journaledObjects: number | undefined,
): Promise<{ size: number; objects: number; layout?: PackLayout } | undefined> {
  const packSize = sizes.get('pack');
  if (packSize !== undefined && sizes.has('idx')) {
    return { size: packSize, objects: journaledObjects ?? (await objectCount(blobs, repositoryId, checksum)) };
  }
  const joinedSize = sizes.get(JOINED_PACK_EXTENSION);
  if (joinedSize === undefined) return undefined;
  // The pack's header names its object count, which sets the idx's length (no 64-bit offsets in a joined blob).
  const key = joinedPackBlobKey(repositoryId, checksum);
  let objects: number;
  try {
    objects = parsePackHeader((await blobs.get(key, PACK_HEADER)) ?? Buffer.alloc(0)).objectCount;
  } catch (error) {
    if (!(error instanceof PackFormatError)) throw error;
    throw new Error(`recovering pack ${checksum}: ${key} does not start with a pack header: ${error.message}`, { cause: error });
  }
  const size = joinedSize - packIndexSize(objects);
  if (size < MIN_PACK_SIZE)
    throw new Error(`recovering pack ${checksum}: ${key} is too short for a pack of ${objects} objects and its idx`);
  return { size, objects, layout: 'joined' };
}

/** Where a pack's header lies: "PACK", its version and its object count. */
const PACK_HEADER = { start: 0, end: 12 };
/** The header and the trailing checksum of a pack of no objects. */
const MIN_PACK_SIZE = 32;

async function objectCount(blobs: BlobStore, repositoryId: string, checksum: string): Promise<number> {
  const key = idxBlobKey(repositoryId, checksum);
  const bytes = await blobs.get(key, IDX_OBJECT_COUNT);
  if (!bytes || bytes.length !== 4) throw new Error(`recovering pack ${checksum}: ${key} is too short to be a pack index`);
  return bytes.readUInt32BE(0);
}

async function writeRepository(
  kv: KVStore,
  repositoryId: string,
  state: ReplayedRepository,
  packs: Map<string, PackRecord>,
  lfsEntries: readonly KVEntry[],
  overwrite: boolean,
): Promise<void> {
  const ops: CasOp[] = [
    { key: HEAD_KEY, expect: null, value: state.head ?? 'refs/heads/main' },
    ...[...state.refs].map(([name, oid]) => ({ key: refKey(name), expect: null, value: oid })),
    ...[...packs].map(([checksum, record]) => ({ key: packKey(checksum), expect: null, value: JSON.stringify(record) })),
    ...lfsEntries.map(({ key, value }) => ({ key, expect: null, value })),
  ];
  if (state.seq > 0) ops.push({ key: JOURNAL_SEQ_KEY, expect: null, value: String(state.seq) });
  await writeScope(kv, repositoryScope(repositoryId), ops, overwrite);
}

/** Writes `entries` into `scope`, which must hold none of their keys unless `overwrite` (see writeScope). */
export async function restoreScope(kv: KVStore, scope: string, entries: readonly KVEntry[], overwrite: boolean): Promise<void> {
  await writeScope(
    kv,
    scope,
    entries.map(({ key, value }) => ({ key, expect: null, value })),
    overwrite,
  );
}

/**
 * Writes `ops` (each expecting its key absent) in slices. With `overwrite`, a key that holds a
 * value already is expected at that value, so that the write replaces it.
 */
async function writeScope(kv: KVStore, scope: string, ops: readonly CasOp[], overwrite: boolean): Promise<void> {
  for (let start = 0; start < ops.length; start += WRITE_BATCH) {
    let slice = ops.slice(start, start + WRITE_BATCH);
    if (overwrite) {
      const current = await kv.getMany(
        scope,
        slice.map((op) => op.key),
      );
      slice = slice.map((op) => ({ ...op, expect: current.get(op.key) ?? null }));
    }
    const { conflicts } = await kv.compareAndSwap(scope, slice, 'all');
    if (conflicts.length > 0) {
      throw new RecoveryTargetNotEmpty(`recovering ${scope}: ${slice[conflicts[0]].key} was written by someone else meanwhile`);
    }
  }
}
