/**
 * Where a repository keeps its state: the one place that knows the key layout.
 *
 * KV store
 * - scope `registry` (global):
 *     `repo:<owner>/<name>` → JSON RepositoryInfo. Owner and name are lower-cased in the key so
 *     that, as on GitHub, `Foo/Bar` and `foo/bar` are one repository; the info keeps the spelling.
 *     `journal:last` → JSON RegistryEntry: the registry's last committed transaction (journal/registry-journal.ts)
 * - scope `repo:<id>` (one per repository; a clustered backend keeps a scope on one shard, so a
 *   multi-ref compare-and-swap stays one atomic step):
 *     `ref:<refname>`     → object id (40 hex)
 *     `symref:HEAD`       → target ref name, e.g. `refs/heads/main` (may be unborn)
 *     `pack:<checksum>`   → JSON PackRecord {size, objects, createdAt, kind, retiredAt?, replacedBy?, sidecars?, layout?, idxTables?}
 *     `maintenance:lease` → JSON MaintenanceLease {holder, token, expiresAt}: who maintains the repository now
 *     `journal:seq`       → sequence number (decimal) of the repository's last committed ref transaction
 *     `fence:<name>`      → ISO time it was set: ref updates made with this fence can no longer apply (RefDB.fence)
 *     What the registry does not say about pack blobs, under one prefix so that one scan finds it all
 *     (maintenance/collector.ts explains how these keys order pushes and the collector):
 *     `blobs:adding:<checksum>:<token>` → ISO time a push claimed the pack's blobs, to store and register them
 *     `blobs:deleting:<checksum>` → ISO time the collector began deleting the pack's blobs
 *     `blobs:orphan:<checksum>` → ISO time the collector first saw pack blobs with no record
 *     `orphans:listed`    → ISO time the collector last listed the pack blobs to find orphans (outside
 *       `blobs:`: it says nothing is due)
 *     Git LFS locks (lfs-locks.ts), paths escaped like ref names:
 *     `lfs-lock:id:<id>`     → JSON LfsLock {id, path, lockedAt, owner}
 *     `lfs-lock:path:<path>` → the id of the lock on that path, folded (foldLockPath: one lock per file)
 *     `lfs-lock:count`       → how many locks there are (decimal; absent when none)
 *     Git LFS objects stored (lfs-object-records.ts):
 *     `lfs-object:<oid>`     → its size in bytes (decimal)
 *     `lfs-objects:bytes`    → the sum of those sizes (decimal; absent when none)
 *     Git LFS objects collected by maintenance (maintenance/lfs-collector.ts):
 *     `lfs-unreferenced:<oid>` → when a run first found the object referenced by no pointer (ISO time)
 *     `lfs-collecting:<oid>`   → the run deleting it began then (ISO time); uploads wait while it stands
 *     log `reflog:<refname>` → JSON ReflogEntry per applied update, oldest first;
 *       `timestamp` is milliseconds since the epoch.
 *
 * Blob store
 *   `repos/<id>/packs/pack-<checksum>.pack` and `.idx` — immutable, named by the pack's SHA-1;
 *   sidecars (`.bitmap`, `.rev`, `.graph`: a commit-graph) beside them, named in the pack's record.
 *   `repos/<id>/packs/pack-<checksum>.packidx` — instead of those two, for a pack a push received
 *   in memory (PackRecord.layout 'joined'): the pack's bytes, then its idx's, one store write
 *   instead of two. Its idx has no table of 64-bit offsets, so the idx's length follows from the
 *   pack's object count (packIndexSize) and the blob tells both apart by itself.
 *   `lfs/repos/<id>/locks/<lockId>` — JSON LfsLock: a Git LFS lock, written once taken and deleted once
 *   released (lfs-locks.ts), from which recovery rebuilds the `lfs-lock:` keys.
 *   The journal (journal/ explains it): the durable history the KV store is rebuilt from.
 *   `journal/repos/<id>/entry-<seq>` — one ref transaction of a repository, JSON RefTransaction;
 *   `journal/repos/<id>/checkpoint-<seq>` — its whole ref table and pack registry after transaction <seq>;
 *   `journal/registry/entry-<seq>`, `journal/registry/checkpoint-<seq>` — the same for the repository registry.
 *   <seq> is zero-padded to 16 digits, so that listing order (lexicographic) is numeric order.
 *
 * Repository ids are random (a UUID without dashes): renaming or transferring a repository only
 * rewrites its registry entry, never its refs or packs.
 *
 * KV keys are printable ASCII without spaces, but git allows any UTF-8 in ref names; ref names
 * are therefore escaped in keys: '%' and every byte outside 0x21–0x7e become `%XX`. Valid ref
 * names have no spaces or control characters, so only '%' and non-ASCII are ever escaped, and the
 * escaping of a prefix is a prefix of the escaping, which keeps prefix scans correct.
 */
import { randomUUID } from 'node:crypto';
import type { KVEntry } from '@gitfleet/storage';

export const REGISTRY_SCOPE = 'registry';
export const HEAD_KEY = 'symref:HEAD';
export const REF_KEY_PREFIX = 'ref:';
export const PACK_KEY_PREFIX = 'pack:';
export const REPO_KEY_PREFIX = 'repo:';
/** A deleted repository whose blobs are still to be collected (registry scope). */
export const DELETED_REPO_KEY_PREFIX = 'deleted:';
export const MAINTENANCE_LEASE_KEY = 'maintenance:lease';
export const BLOB_STATE_KEY_PREFIX = 'blobs:';
export const ADDING_KEY_PREFIX = `${BLOB_STATE_KEY_PREFIX}adding:`;
export const DELETING_KEY_PREFIX = `${BLOB_STATE_KEY_PREFIX}deleting:`;
export const ORPHAN_KEY_PREFIX = `${BLOB_STATE_KEY_PREFIX}orphan:`;
export const ORPHANS_LISTED_KEY = 'orphans:listed';
const REFLOG_PREFIX = 'reflog:';
export const JOURNAL_SEQ_KEY = 'journal:seq';
export const LFS_LOCK_ID_PREFIX = 'lfs-lock:id:';
const LFS_LOCK_PATH_PREFIX = 'lfs-lock:path:';
export const LFS_LOCK_COUNT_KEY = 'lfs-lock:count';
export const LFS_OBJECT_PREFIX = 'lfs-object:';
export const LFS_OBJECT_BYTES_KEY = 'lfs-objects:bytes';
/** Every key of Git LFS state starts so (locks, object records, collection). */
export const LFS_KEY_PREFIX = 'lfs-';
export const LFS_UNREFERENCED_PREFIX = 'lfs-unreferenced:';
export const LFS_COLLECTING_PREFIX = 'lfs-collecting:';
export const REGISTRY_JOURNAL_LAST_KEY = 'journal:last';

/**
 * How a pack came to be (JGit's PackSource): a push, a geometric compaction of other packs, a
 * full repack's packs: what a clone fetches (the objects branches and tags reach, in clone order;
 * JGit's GC), what only the other refs reach (pull requests and the like; JGit's GC_REST), and
 * the cruft no ref reaches.
 */
export type PackKind = 'receive' | 'compaction' | 'repack' | 'repack-rest' | 'cruft';

export const PACK_KINDS: readonly PackKind[] = ['receive', 'compaction', 'repack', 'repack-rest', 'cruft'];

/** What the registry of a repository's packs records about one pack. */
export interface PackRecord {
  size: number;
  objects: number;
  /** ISO 8601. */
  createdAt: string;
  /** Records written before kinds existed have none and read as 'receive'. */
  kind: PackKind;
  /** ISO 8601: when maintenance replaced the pack. A retired pack stays readable for a grace period, then is deleted. */
  retiredAt?: string;
  /** The checksum of the pack published in its place (the reachable pack of a full repack). */
  replacedBy?: string;
  /** Extensions of the sidecar blobs stored beside the pack, e.g. ['bitmap', 'rev']. */
  sidecars?: string[];
  /** 'joined': the pack and its idx are one `.packidx` blob; absent: a `.pack` and an `.idx` blob. */
  layout?: PackLayout;
  /**
   * The pack's idx as its tables (git-format's packIndexTables), base64, for a pushed pack of at
   * most INLINE_IDX_MAX_OBJECTS objects: a process that did not store the pack reads its idx with
   * the registry, not with a get of its own. The stored idx holds the same.
   */
  idxTables?: string;
}

/** Pushes of up to this many objects carry their idx in their record (2.4 KB of base64 at most); a reader takes any count. */
export const INLINE_IDX_MAX_OBJECTS = 64;

export type PackLayout = 'joined';

export function newRepositoryId(): string {
  return randomUUID().replace(/-/g, '');
}

export function repositoryScope(repositoryId: string): string {
  return `repo:${repositoryId}`;
}

export function registryKey(owner: string, name: string): string {
  return `${REPO_KEY_PREFIX}${owner.toLowerCase()}/${name.toLowerCase()}`;
}

export function refKey(refName: string): string {
  return REF_KEY_PREFIX + escapeKeyPart(refName);
}

export function refNameFromKey(key: string): string {
  return unescapeKeyPart(key.slice(REF_KEY_PREFIX.length));
}

export function fenceKey(name: string): string {
  return `fence:${escapeKeyPart(name)}`;
}

export function reflogName(refName: string): string {
  return REFLOG_PREFIX + escapeKeyPart(refName);
}

export function lfsLockIdKey(id: string): string {
  return LFS_LOCK_ID_PREFIX + id;
}

export function lfsLockPathKey(path: string): string {
  return LFS_LOCK_PATH_PREFIX + escapeKeyPart(path);
}

export function lfsObjectRecordKey(oid: string): string {
  return LFS_OBJECT_PREFIX + oid;
}

export function lfsUnreferencedKey(oid: string): string {
  return LFS_UNREFERENCED_PREFIX + oid;
}

export function lfsCollectingKey(oid: string): string {
  return LFS_COLLECTING_PREFIX + oid;
}

export function packKey(checksum: string): string {
  return PACK_KEY_PREFIX + checksum;
}

export function packBlobKey(repositoryId: string, checksum: string): string {
  return sidecarBlobKey(repositoryId, checksum, 'pack');
}

export function idxBlobKey(repositoryId: string, checksum: string): string {
  return sidecarBlobKey(repositoryId, checksum, 'idx');
}

export const JOINED_PACK_EXTENSION = 'packidx';

/** The one blob of a pack of layout 'joined': the pack's bytes, then its idx's. */
export function joinedPackBlobKey(repositoryId: string, checksum: string): string {
  return sidecarBlobKey(repositoryId, checksum, JOINED_PACK_EXTENSION);
}

/** The blob holding a pack's bytes (from offset 0) in the layout its record names. */
export function packBytesBlobKey(repositoryId: string, checksum: string, layout: PackLayout | undefined): string {
  return layout === 'joined' ? joinedPackBlobKey(repositoryId, checksum) : packBlobKey(repositoryId, checksum);
}

export function orphanKey(checksum: string): string {
  return ORPHAN_KEY_PREFIX + checksum;
}

export function deletingKey(checksum: string): string {
  return DELETING_KEY_PREFIX + checksum;
}

/** Every push's claim on the blobs of pack `checksum` starts with this. */
export function addingKeyPrefix(checksum: string): string {
  return `${ADDING_KEY_PREFIX}${checksum}:`;
}

/** One push's claim: `token` tells concurrent pushes of the same pack apart. */
export function addingKey(checksum: string, token: string): string {
  return addingKeyPrefix(checksum) + token;
}

/** The pack checksum a `blobs:adding:` key claims. */
export function checksumOfAddingKey(key: string): string {
  return key.slice(ADDING_KEY_PREFIX.length, ADDING_KEY_PREFIX.length + 40);
}

export function deletedRepositoryKey(repositoryId: string): string {
  return DELETED_REPO_KEY_PREFIX + repositoryId;
}

/** Where every blob of a repository except its journal lives: its packs and whatever else is kept per repository. */
export function repositoryBlobPrefix(repositoryId: string): string {
  return `repos/${repositoryId}/`;
}

/** Where a repository's Git LFS objects live (per repository: see server/src/lfs/objects.ts for why). */
export function lfsBlobPrefix(repositoryId: string): string {
  return `lfs/repos/${repositoryId}/`;
}

/** A Git LFS object, content-addressed by its SHA-256 within its repository (fanned out like git's loose objects). */
export function lfsBlobKey(repositoryId: string, oid: string): string {
  return `${lfsBlobPrefix(repositoryId)}${oid.slice(0, 2)}/${oid.slice(2, 4)}/${oid}`;
}

/** Where the pieces of a resumable upload of a Git LFS object live until they become the object (server/src/lfs/resumable-uploads.ts). */
export function lfsUploadsBlobPrefix(repositoryId: string): string {
  return `${lfsBlobPrefix(repositoryId)}uploads/`;
}

/** Where every blob of a repository's packs lives (the collector lists it). */
export function packsBlobPrefix(repositoryId: string): string {
  return `${repositoryBlobPrefix(repositoryId)}packs/`;
}

/** A sidecar of a pack, e.g. `sidecarBlobKey(id, checksum, 'bitmap')`. */
export function sidecarBlobKey(repositoryId: string, checksum: string, extension: string): string {
  return `${packsBlobPrefix(repositoryId)}pack-${checksum}.${extension}`;
}

/** Every blob of a pack: its bytes and idx in the layout its record names, and the sidecars the record names. */
export function packBlobKeys(repositoryId: string, checksum: string, record: Pick<PackRecord, 'layout' | 'sidecars'>): string[] {
  const sidecars = (record.sidecars ?? []).map((s) => sidecarBlobKey(repositoryId, checksum, s));
  if (record.layout === 'joined') return [joinedPackBlobKey(repositoryId, checksum), ...sidecars];
  return [packBlobKey(repositoryId, checksum), idxBlobKey(repositoryId, checksum), ...sidecars];
}

/** The pack checksum and extension of a blob key under packsBlobPrefix, or undefined for anything else. */
export function parsePackBlobName(name: string): { checksum: string; extension: string } | undefined {
  const match = /^pack-([0-9a-f]{40})\.([a-z0-9]+)$/.exec(name);
  return match ? { checksum: match[1], extension: match[2] } : undefined;
}

/** Where the durable copies of a repository's Git LFS locks live, beside its LFS objects (so the deleted-repository collection takes them). */
export function lfsLockBlobPrefix(repositoryId: string): string {
  return `${lfsBlobPrefix(repositoryId)}locks/`;
}

export function lfsLockBlobKey(repositoryId: string, lockId: string): string {
  return lfsLockBlobPrefix(repositoryId) + lockId;
}

/** The oid of a Git LFS object's blob key under lfsBlobPrefix (as lfsBlobKey makes it), or undefined for anything else stored there. */
export function parseLfsObjectBlobName(name: string): string | undefined {
  const match = /^([0-9a-f]{2})\/([0-9a-f]{2})\/([0-9a-f]{64})$/.exec(name);
  return match && match[3].startsWith(match[1] + match[2]) ? match[3] : undefined;
}

const SEQ_DIGITS = 16;

/** Where the journal of one repository, or of the registry (`repositoryId` undefined), lives. */
export function journalBlobPrefix(repositoryId?: string): string {
  return repositoryId === undefined ? 'journal/registry/' : `journal/repos/${repositoryId}/`;
}

export function journalEntryKey(repositoryId: string | undefined, seq: number): string {
  return `${journalBlobPrefix(repositoryId)}entry-${String(seq).padStart(SEQ_DIGITS, '0')}`;
}

export function journalCheckpointKey(repositoryId: string | undefined, seq: number): string {
  return `${journalBlobPrefix(repositoryId)}checkpoint-${String(seq).padStart(SEQ_DIGITS, '0')}`;
}

/** Journal entries listed at once: those whose sequence numbers share all but their last two digits. */
export const JOURNAL_ENTRY_WINDOW = 100;

/** The prefix of the entries numbered window × JOURNAL_ENTRY_WINDOW to the window's end. */
export function journalEntryWindowPrefix(repositoryId: string, window: number): string {
  return `${journalBlobPrefix(repositoryId)}entry-${String(window).padStart(SEQ_DIGITS - 2, '0')}`;
}

/** The kind and sequence number of a journal blob key, or undefined for anything else. */
export function parseJournalKey(key: string): { kind: 'entry' | 'checkpoint'; seq: number } | undefined {
  const match = /\/(entry|checkpoint)-(\d{16})$/.exec(key);
  return match ? { kind: match[1] as 'entry' | 'checkpoint', seq: Number(match[2]) } : undefined;
}

export function escapeKeyPart(value: string): string {
  if (/^[\x21-\x24\x26-\x7e]*$/.test(value)) return value;
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    out +=
      byte >= 0x21 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function unescapeKeyPart(value: string): string {
  if (!value.includes('%')) return value;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    if (value[i] === '%') {
      bytes.push(parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(value.charCodeAt(i));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Reads a `pack:` entry; throws naming the scope and pack when it is not a PackRecord. */
export function parsePackRecord(value: string, checksum: string, scope: string): PackRecord {
  let record: unknown;
  try {
    record = JSON.parse(value);
  } catch {
    throw new Error(`pack registry of ${scope}: entry for pack ${checksum} is not JSON: ${value.slice(0, 100)}`);
  }
  const { size, objects, createdAt, kind, retiredAt, replacedBy, sidecars, layout, idxTables } = (record ?? {}) as Partial<PackRecord>;
  const valid =
    Number.isSafeInteger(size) &&
    Number.isSafeInteger(objects) &&
    typeof createdAt === 'string' &&
    (kind === undefined || PACK_KINDS.includes(kind)) &&
    (retiredAt === undefined || typeof retiredAt === 'string') &&
    (replacedBy === undefined || typeof replacedBy === 'string') &&
    (sidecars === undefined || (Array.isArray(sidecars) && sidecars.every((s) => typeof s === 'string' && /^[a-z0-9]+$/.test(s)))) &&
    (layout === undefined || layout === 'joined');
  if (!valid) throw new Error(`pack registry of ${scope}: malformed entry for pack ${checksum}: ${value.slice(0, 200)}`);
  const parsed: PackRecord = { size: size!, objects: objects!, createdAt, kind: kind ?? 'receive' };
  if (retiredAt !== undefined) parsed.retiredAt = retiredAt;
  if (replacedBy !== undefined) parsed.replacedBy = replacedBy;
  if (sidecars !== undefined) parsed.sidecars = sidecars;
  if (layout !== undefined) parsed.layout = layout;
  // Only a copy of the stored idx: one that does not fit the record is left out, and the idx is
  // read from the store, as it is for a record without one. Whatever the writer's limit of objects.
  if (isIdxTables(idxTables, parsed.objects)) parsed.idxTables = idxTables;
  return parsed;
}

/** Base64 of 28 bytes per object, as many objects as the record counts, then a 20-byte checksum (packIndexTables). */
function isIdxTables(value: unknown, objects: number): value is string {
  return (
    typeof value === 'string' &&
    /^[A-Za-z0-9+/]*={0,2}$/.test(value) &&
    value.length % 4 === 0 &&
    Buffer.byteLength(value, 'base64') === 28 * objects + 20
  );
}

/** Values of the entries under `prefix`, by the rest of their key. */
export function entriesAfter(entries: readonly KVEntry[], prefix: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const { key, value } of entries) if (key.startsWith(prefix)) found.set(key.slice(prefix.length), value);
  return found;
}
