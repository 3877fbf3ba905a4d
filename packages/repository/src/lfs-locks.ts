/**
 * Git LFS file locks of one repository (the Git LFS locking API): at most one lock per path,
 * paths compared folded (foldLockPath), kept in the repository's KV scope so that creating one (path still free, count under the
 * bound) is one compare-and-swap, atomic on a clustered store too.
 *
 * A lock a user was told they hold must survive the loss of the KV store, which recovery
 * (journal/recover.ts) rebuilds from the blob store alone: each lock is also a blob,
 * `lfs/repos/<id>/locks/<lockId>` holding its JSON, in the order the ref journal keeps
 * (journal/ref-journal.ts: commit point, then durable record, then answer):
 *
 *   1. Locking: the compare-and-swap that claims the path is THE COMMIT POINT; then the lock's
 *      blob is written (putIfAbsent, durable when it resolves); only then is the locker told it
 *      holds the lock. Every acknowledged lock has its blob.
 *   2. Unlocking: the compare-and-swap that frees the path, then the blob's deletion, then the
 *      answer. No acknowledged unlock leaves a blob that recovery would bring back.
 *
 * What a failure or a race leaves:
 *   - a failed blob write: the locker gets a LockNotDurable, never the lock, and the lock is ROLLED
 *     BACK (its keys removed, then its blob deleted in case the failed write took effect after
 *     all). Nobody was told they hold it; left standing, it would hold the path against everyone,
 *     its owner included (who was told locking failed), and block their pushes until an
 *     administrator forced it open, while a recovery would drop it silently: a lock nobody knows
 *     they hold, and not durable. Who saw it meanwhile (a locker refused, a push checked) saw a
 *     lock taken and released. If the roll-back fails too, the error says the outcome is unknown:
 *     the lock may stand (its owner lists and unlocks it) and, if its blob was written, may come
 *     back after a recovery.
 *   - a failed blob deletion: the lock is released in the live system, but the caller gets a
 *     LockNotDurable saying the outcome is unknown: a recovery brings the lock back.
 *   - an unlock between a lock's commit and its blob write (by someone who listed it at once):
 *     the unlock's deletion finds no blob yet, so the locker, finding its lock gone once the blob
 *     is written, deletes the blob itself.
 */
import { randomBytes } from 'node:crypto';
import type { BlobStore, KVEntry, KVStore } from '@gitfleet/storage';
import {
  LFS_LOCK_COUNT_KEY,
  LFS_LOCK_ID_PREFIX,
  lfsLockBlobKey,
  lfsLockBlobPrefix,
  lfsLockIdKey,
  lfsLockPathKey,
  repositoryScope,
} from './keys.js';

export interface LfsLock {
  /** Opaque, unique in the repository; lists are in id order. */
  id: string;
  /** Normalised: relative to the repository's root, "/"-separated, no "." or ".." components. */
  path: string;
  /** ISO 8601. */
  lockedAt: string;
  /** The user name of who holds it, spelled as when it was taken. */
  owner: string;
}

export interface LockLimits {
  /** Locks one repository may hold at once. */
  maxLocks: number;
  /** Of a path, in UTF-8. */
  maxPathBytes: number;
}

export const DEFAULT_LOCK_LIMITS: LockLimits = { maxLocks: 10_000, maxPathBytes: 1024 };

/** A path no lock may name; the message says why. */
export class InvalidLockPath extends Error {
  override name = 'InvalidLockPath';
}

/** The path is locked already: `lock` is the lock that holds it. */
export class LockExists extends Error {
  override name = 'LockExists';

  constructor(readonly lock: LfsLock) {
    super(`${lock.path} is already locked by ${lock.owner} (lock ${lock.id})`);
  }
}

export class TooManyLocks extends Error {
  override name = 'TooManyLocks';
}

/** A lock's blob could not be written or deleted: the message says what the live system holds now. */
export class LockNotDurable extends Error {
  override name = 'LockNotDurable';
}

/** What lock ids look like (24 hex digits when made here): anything else names no lock. */
const LOCK_ID = /^[0-9a-f]{1,64}$/;

/** Compare-and-swap rounds lost to concurrent lockers before giving up: each loss means another lock was taken or released. */
const MAX_ATTEMPTS = 50;

/**
 * The normalised form of a path a client asks to lock: "./a//b" → "a/b". Refuses what cannot
 * name a file in a git tree: empty, absolute, with "..", a NUL, or longer than `maxPathBytes`.
 */
export function normalizeLockPath(path: unknown, maxPathBytes: number): string {
  if (typeof path !== 'string' || path === '') throw new InvalidLockPath('a lock needs a path');
  if (path.includes('\0')) throw new InvalidLockPath('a path may not contain NUL');
  if (path.startsWith('/'))
    throw new InvalidLockPath(`${JSON.stringify(path.slice(0, 200))} is absolute; give it relative to the repository's root`);
  if (/[\uD800-\uDFFF]/.test(path) && Buffer.from(path, 'utf8').toString('utf8') !== path) {
    throw new InvalidLockPath('a path must be valid Unicode');
  }
  const parts = path.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) throw new InvalidLockPath(`${JSON.stringify(path.slice(0, 200))} leaves the repository (..)`);
  if (parts.length === 0) throw new InvalidLockPath(`${JSON.stringify(path)} names the repository's root, not a file`);
  const normalized = parts.join('/');
  const bytes = Buffer.byteLength(normalized, 'utf8');
  if (bytes > maxPathBytes) throw new InvalidLockPath(`a path of ${bytes} bytes is longer than the ${maxPathBytes} allowed`);
  return normalized;
}

/**
 * The form under which lock paths name one file: clients on case-insensitive file systems
 * (Windows, macOS) see "Art/Hero.psd" and "art/hero.psd" as one file, and macOS may spell "é"
 * decomposed (NFD) where others compose it (NFC). Two locks on one file would let two users
 * edit it; the push check compares tree paths in this form too.
 */
export function foldLockPath(path: string): string {
  return path.normalize('NFC').toLowerCase();
}

export interface LockPage {
  locks: LfsLock[];
  /** The cursor of the next page; absent on the last. */
  nextCursor?: string;
}

export class LockStore {
  constructor(
    private readonly kv: KVStore,
    private readonly blobs: BlobStore,
    readonly limits: LockLimits = DEFAULT_LOCK_LIMITS,
  ) {}

  /**
   * Locks `path` for `owner`. Throws LockExists with the holder's lock when the path, folded, is taken,
   * TooManyLocks at the bound, InvalidLockPath for a path no lock may name, LockNotDurable when
   * the lock's blob could not be written (see the top of this file).
   */
  async create(repositoryId: string, path: unknown, owner: string, now = new Date()): Promise<LfsLock> {
    const normalized = normalizeLockPath(path, this.limits.maxPathBytes);
    const scope = repositoryScope(repositoryId);
    const lock: LfsLock = { id: randomBytes(12).toString('hex'), path: normalized, lockedAt: now.toISOString(), owner };
    const pathKey = lfsLockPathKey(foldLockPath(normalized));
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.kv.getMany(scope, [LFS_LOCK_COUNT_KEY, pathKey]);
      const holder = current.get(pathKey);
      const existing = holder === undefined ? undefined : await this.get(repositoryId, holder);
      if (existing) throw new LockExists(existing);
      // The path's key names a lock being removed right now: its unlock settles on the next round.
      if (holder !== undefined) continue;
      const count = parseCount(current.get(LFS_LOCK_COUNT_KEY), repositoryId);
      if (count >= this.limits.maxLocks) {
        throw new TooManyLocks(`the repository holds ${count} locks, the most allowed; unlock some first`);
      }
      const { conflicts } = await this.kv.compareAndSwap(
        scope,
        [
          { key: LFS_LOCK_COUNT_KEY, expect: countValue(count), value: countValue(count + 1) },
          { key: pathKey, expect: null, value: lock.id },
          { key: lfsLockIdKey(lock.id), expect: null, value: lockValue(lock) },
        ],
        'all',
      );
      if (conflicts.length === 0) {
        await this.writeBlob(repositoryId, lock);
        return lock;
      }
    }
    throw new Error(`locking ${normalized} in repository ${repositoryId}: lost ${MAX_ATTEMPTS} races with other lockers; try again`);
  }

  async get(repositoryId: string, id: string): Promise<LfsLock | undefined> {
    return (await this.read(repositoryId, id))?.lock;
  }

  /** The lock on `path` (already normalised) or on a path that folds to the same, if any. */
  async atPath(repositoryId: string, path: string): Promise<LfsLock | undefined> {
    const id = await this.kv.get(repositoryScope(repositoryId), lfsLockPathKey(foldLockPath(path)));
    return id === undefined ? undefined : this.get(repositoryId, id);
  }

  /** Every lock, in id order: one KV read, at most `limits.maxLocks` entries (the push check reads them all). */
  async all(repositoryId: string): Promise<LfsLock[]> {
    const entries = await this.kv.scan(repositoryScope(repositoryId), LFS_LOCK_ID_PREFIX);
    return entries.map(({ value }) => parseLfsLock(value, `repository ${repositoryId}`));
  }

  /**
   * Up to `limit` locks from `cursor` on (a lock id; the first when absent). A page is cut from
   * the whole list, which the bound on locks keeps small.
   */
  async page(repositoryId: string, options: { cursor?: string; limit: number }): Promise<LockPage> {
    const all = await this.all(repositoryId);
    const start = options.cursor === undefined ? 0 : all.findIndex((lock) => lock.id >= options.cursor!);
    const locks = start < 0 ? [] : all.slice(start, start + options.limit);
    const next = start < 0 ? undefined : all[start + options.limit];
    return next ? { locks, nextCursor: next.id } : { locks };
  }

  /**
   * Removes the lock; undefined when there was none of that id (unlocked meanwhile). Throws
   * LockNotDurable when the lock was released but its blob could not be deleted.
   */
  async delete(repositoryId: string, id: string): Promise<LfsLock | undefined> {
    const lock = await this.release(repositoryId, id);
    if (lock) await this.deleteBlob(repositoryId, lock);
    return lock;
  }

  /** Writes the blob of a lock just committed; rolls the lock back when that fails (see the top of this file). */
  private async writeBlob(repositoryId: string, lock: LfsLock): Promise<void> {
    const key = lfsLockBlobKey(repositoryId, lock.id);
    try {
      await this.blobs.putIfAbsent(key, Buffer.from(lockValue(lock)));
    } catch (error) {
      const outcome = await this.release(repositoryId, lock.id)
        .then(() => this.blobs.delete(key))
        .then(
          () => 'it was not taken',
          (undoError: unknown) =>
            `undoing it failed too (${String(undoError)}): the outcome is unknown; list the locks to see whether it stands`,
        );
      throw new LockNotDurable(`locking ${lock.path} in repository ${repositoryId}: writing ${key} failed (${String(error)}); ${outcome}`, {
        cause: error,
      });
    }
    await this.deleteBlobIfUnlocked(repositoryId, lock);
  }

  /**
   * Makes the locks' blobs agree with the locks: writes the blob of every lock that has none (a
   * lock taken before locks had blobs, or whose locker stopped between its compare-and-swap and
   * its blob), and deletes the blob of every lock that is gone (an unlock whose deletion failed or
   * was cut short), which a recovery would otherwise lose or bring back. A blob is deleted only
   * when its lock is absent from the KV store as read AFTER the blob was listed: a lock's blob is
   * written only after the compare-and-swap that creates it, so a lock whose blob was listed is
   * in that read unless it was unlocked since.
   */
  async reconcileBlobs(repositoryId: string): Promise<{ written: number; removed: number }> {
    const stored = new Set<string>();
    for await (const { key } of this.blobs.list(lfsLockBlobPrefix(repositoryId))) stored.add(key);
    const locks = await this.all(repositoryId);
    let written = 0;
    for (const lock of locks) {
      const key = lfsLockBlobKey(repositoryId, lock.id);
      if (stored.delete(key)) continue;
      await this.blobs.putIfAbsent(key, Buffer.from(lockValue(lock)));
      if (await this.deleteBlobIfUnlocked(repositoryId, lock)) continue;
      written++;
    }
    // What is left names no lock in the read above.
    for (const key of stored) await this.blobs.delete(key);
    return { written, removed: stored.size };
  }

  /** Deletes the blob just written of a lock unlocked since it was read: that unlock found no blob to delete. True when it did. */
  private async deleteBlobIfUnlocked(repositoryId: string, lock: LfsLock): Promise<boolean> {
    if ((await this.read(repositoryId, lock.id)) !== undefined) return false;
    await this.deleteBlob(repositoryId, lock);
    return true;
  }

  private async deleteBlob(repositoryId: string, lock: LfsLock): Promise<void> {
    const key = lfsLockBlobKey(repositoryId, lock.id);
    try {
      await this.blobs.delete(key);
    } catch (error) {
      throw new LockNotDurable(
        `${lock.path} in repository ${repositoryId} is unlocked, but deleting ${key} failed (${String(error)}): ` +
          'a recovery of the KV store would bring the lock back',
        { cause: error },
      );
    }
  }

  /** Removes the lock's keys; undefined when there was none of that id. */
  private async release(repositoryId: string, id: string): Promise<LfsLock | undefined> {
    const scope = repositoryScope(repositoryId);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const stored = await this.read(repositoryId, id);
      if (!stored) return undefined;
      const { lock, value } = stored;
      const count = parseCount(await this.kv.get(scope, LFS_LOCK_COUNT_KEY), repositoryId);
      const { conflicts } = await this.kv.compareAndSwap(
        scope,
        [
          { key: LFS_LOCK_COUNT_KEY, expect: countValue(count), value: countValue(count - 1) },
          { key: lfsLockPathKey(foldLockPath(lock.path)), expect: lock.id, value: null },
          { key: lfsLockIdKey(lock.id), expect: value, value: null },
        ],
        'all',
      );
      if (conflicts.length === 0) return lock;
    }
    throw new Error(`unlocking lock ${id} in repository ${repositoryId}: lost ${MAX_ATTEMPTS} races with other lockers; try again`);
  }

  /** The lock of that id with its stored value (which a removal expects). */
  private async read(repositoryId: string, id: string): Promise<{ lock: LfsLock; value: string } | undefined> {
    if (!LOCK_ID.test(id)) return undefined;
    const value = await this.kv.get(repositoryScope(repositoryId), lfsLockIdKey(id));
    return value === undefined ? undefined : { lock: parseLfsLock(value, `repository ${repositoryId}`), value };
  }
}

/** No key rather than "0": a repository without locks keeps nothing of them. */
function countValue(count: number): string | null {
  return count <= 0 ? null : String(count);
}

function parseCount(value: string | undefined, repositoryId: string): number {
  if (value === undefined) return 0;
  const count = Number(value);
  if (!Number.isSafeInteger(count) || count < 0)
    throw new Error(`repository ${repositoryId}: malformed LFS lock count ${JSON.stringify(value)}`);
  return count;
}

/** A lock as LockStore stores it, in its KV entry and its blob alike. */
function lockValue(lock: LfsLock): string {
  return JSON.stringify({ id: lock.id, path: lock.path, lockedAt: lock.lockedAt, owner: lock.owner });
}

/** A stored lock (a KV entry or a blob); `where` names it in the error when it is none. */
export function parseLfsLock(value: string, where: string): LfsLock {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    parsed = undefined;
  }
  const { id, path, lockedAt, owner } = (parsed ?? {}) as Partial<LfsLock>;
  if (typeof id !== 'string' || typeof path !== 'string' || typeof lockedAt !== 'string' || typeof owner !== 'string') {
    throw new Error(`${where}: malformed LFS lock ${value.slice(0, 200)}`);
  }
  return { id, path, lockedAt, owner };
}

/**
 * The KV entries LockStore keeps for `locks` (recovery writes them from the locks' blobs): each
 * lock, its folded path, the count. Two locks on paths that fold alike, which LockStore never
 * lets happen, cannot both be kept: the earliest taken is, the others come back in `refused`.
 */
export function lfsLockEntries(locks: readonly LfsLock[]): {
  entries: KVEntry[];
  locks: number;
  refused: Array<{ lock: LfsLock; heldBy: LfsLock }>;
} {
  const byPath = new Map<string, LfsLock>();
  const refused: Array<{ lock: LfsLock; heldBy: LfsLock }> = [];
  const oldestFirst = [...locks].sort((a, b) => Date.parse(a.lockedAt) - Date.parse(b.lockedAt) || (a.id < b.id ? -1 : 1));
  for (const lock of oldestFirst) {
    const pathKey = lfsLockPathKey(foldLockPath(lock.path));
    const heldBy = byPath.get(pathKey);
    if (heldBy) refused.push({ lock, heldBy });
    else byPath.set(pathKey, lock);
  }
  const entries: KVEntry[] = [];
  for (const [pathKey, lock] of byPath)
    entries.push({ key: lfsLockIdKey(lock.id), value: lockValue(lock) }, { key: pathKey, value: lock.id });
  const count = countValue(byPath.size);
  if (count !== null) entries.push({ key: LFS_LOCK_COUNT_KEY, value: count });
  return { entries, locks: byPath.size, refused };
}
