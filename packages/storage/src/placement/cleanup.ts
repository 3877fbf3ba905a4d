import { createHash } from 'node:crypto';
import type { BlobStore } from '../blob-store.js';
import { hasBlobAges } from '../blob-ages.js';
import { walkKeys, type KeyWalkOptions } from './key-walk.js';
import type { MergedEntry } from './merge-listings.js';
import { PlacementError, errorMessage } from './placement-error.js';
import { rendezvousOrder } from './rendezvous.js';
import { withTimeout } from './timeout.js';

/** Why a copy outside its key's preferred stores was kept. */
export type CleanupKeepReason =
  /** A preferred store has no copy (repair makes one; the copy here may be the only other). */
  | 'preferredMissing'
  /** A preferred store did not answer: it may be down, and the copy here stands in for it. */
  | 'preferredUnreachable'
  /** A preferred copy is younger than `minAgeMs`: the write that made it may still be undone. */
  | 'tooYoung'
  /** A preferred store, or the store of the copy, cannot tell when its copy was written. */
  | 'ageUnknown'
  /** The copies differ (in size, or in content when verifying content): which one is right is for a person to decide. */
  | 'copiesDiffer'
  /** Checked again right before its deletion, the copy was gone or had been written after the checks began. */
  | 'changedMeanwhile'
  /** The copy could not be deleted, or its write time not read again before (see `failures`). */
  | 'deleteFailed';

export interface CleanupProgress {
  /** Distinct keys examined so far. */
  keys: number;
  /** Copies found on stores outside their key's preferred stores. */
  extraCopies: number;
  /** Of those, copies deleted (in a dry run: that would be deleted). */
  removed: number;
  bytesFreed: number;
  /** Of those, copies kept; `keptBecause` says why. */
  kept: number;
  keptBecause: Record<CleanupKeepReason, number>;
}

export interface CleanupReport extends CleanupProgress {
  dryRun: boolean;
  /** Checks that failed and deletions that failed: the first MAX_REPORTED_FAILURES of them. */
  failures: Array<{ key: string; store: string; error: string }>;
  /** Stores that could not be listed: copies they hold outside their keys' preferred stores were not seen. */
  unavailableStores: Array<{ name: string; error: string }>;
  /** True when no check or deletion failed and every store was listed (copies kept for want of age or of preferred copies are no failure). */
  ok: boolean;
}

export interface CleanupOptions extends KeyWalkOptions {
  /** Counts what would be removed, and removes nothing. */
  dryRun?: boolean;
  /**
   * How old (by its store's write time) every preferred copy must be before a copy elsewhere is
   * removed: longer than any putIfAbsent may run, so that no write that made a preferred copy can
   * still fail and undo it. At least `cleanupAgeFloorMs` of the placement (the call rejects
   * otherwise, unless `unsafeMinAge`). Default: 6 hours, or the floor if that is longer.
   */
  minAgeMs?: number;
  /** Accepts a `minAgeMs` below the floor: only where no write can run meanwhile (tests, a fleet that is stopped). */
  unsafeMinAge?: boolean;
  /**
   * 'content' (default): a copy is removed only when its bytes hash the same as every preferred
   * copy's — sizes alone would not notice a preferred copy damaged on disk, and the copy removed
   * might be the last good one. It reads each key with extra copies R+1 times, which only a
   * topology change makes many. 'size': sizes only.
   */
  verify?: 'content' | 'size';
  /** Called right before each deletion; a throw keeps the copy and stops the pass (a background run that lost its lease). */
  beforeDelete?: (key: string, store: string) => void;
  /** Called after each key with the counts so far. */
  onProgress?: (progress: CleanupProgress) => void;
  /** The clock that write times are compared with. Default Date.now. */
  now?: () => number;
}

interface Member {
  name: string;
  store: BlobStore;
}

const MAX_REPORTED_FAILURES = 100;
const DEFAULT_MIN_AGE_MS = 6 * 60 * 60 * 1000;
/** How far the stores' clocks (which date the copies) and the cleaner's may disagree. */
export const CLOCK_SKEW_ALLOWANCE_MS = 5 * 60 * 1000;

/**
 * The least age of preferred copies that makes a cleanup safe: a putIfAbsent tries at most every
 * store, one after another for the arbiter and then per replica slot (under 2 × stores writes of
 * writeTimeoutMs each, the last of which may be its undo), and the stores' clocks may be off.
 */
export function cleanupAgeFloorMs(storeCount: number, writeTimeoutMs: number): number {
  return 2 * storeCount * writeTimeoutMs + CLOCK_SKEW_ALLOWANCE_MS;
}

/** A reason to keep a copy, carried out of the checks of one key. */
class Keep extends Error {
  constructor(
    readonly reason: CleanupKeepReason,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Removes the copies of keys on stores outside their R preferred stores (left there after a store
 * was added, R lowered, or a write fell back while a preferred store was down), once they are not
 * needed. Safety: a copy is deleted only when, checked right before the deletion, each of the
 * key's R preferred stores answers with a copy of the same size (and bytes, see `verify`) written
 * at least `minAgeMs` ago, and the copy itself, its write time read again, predates the checks.
 * Preferred copies are deleted by nothing but a blob's own deletion and the undoing of a failed
 * putIfAbsent, which happens within the put's run: a preferred copy older than any put stays. So the key keeps R copies whatever runs at the same time. A preferred store
 * that is down, slow or lacks the copy keeps every other copy: a write that fell back to another
 * store while it was down made exactly such a copy. Deciding by the preferred stores the caller
 * configured, processes configured with other stores must not run a cleanup at the same time.
 */
export async function cleanupPlacement(
  members: readonly Member[],
  replicas: number,
  timeouts: { readTimeoutMs: number; writeTimeoutMs: number },
  options: CleanupOptions,
): Promise<CleanupReport> {
  const names = members.map((member) => member.name);
  const floorMs = cleanupAgeFloorMs(members.length, timeouts.writeTimeoutMs);
  const minAgeMs = options.minAgeMs ?? Math.max(DEFAULT_MIN_AGE_MS, floorMs);
  if (minAgeMs < floorMs && !options.unsafeMinAge) {
    throw new PlacementError(
      `cleanup minimum age ${minAgeMs} ms is below ${floorMs} ms, the longest a write to ${members.length} stores ` +
        `(write timeout ${timeouts.writeTimeoutMs} ms) may run plus clock skew: a copy it made could still be undone`,
    );
  }
  const verifyContent = (options.verify ?? 'content') === 'content';
  const now = options.now ?? Date.now;
  const unavailable = new Map<number, string>();
  const progress: CleanupProgress = {
    keys: 0,
    extraCopies: 0,
    removed: 0,
    bytesFreed: 0,
    kept: 0,
    keptBecause: {
      preferredMissing: 0,
      preferredUnreachable: 0,
      tooYoung: 0,
      ageUnknown: 0,
      copiesDiffer: 0,
      changedMeanwhile: 0,
      deleteFailed: 0,
    },
  };
  const failures: CleanupReport['failures'] = [];
  const keep = (count: number, reason: CleanupKeepReason) => {
    progress.kept += count;
    progress.keptBecause[reason] += count;
  };
  const fail = (key: string, store: string, error: string) => {
    if (failures.length < MAX_REPORTED_FAILURES) failures.push({ key, store, error });
  };
  const within = <T>(operation: Promise<T>, what: string) => withTimeout(operation, timeouts.readTimeoutMs, what);

  /** Throws Keep unless `member` holds a copy of `key` of `size` bytes, written at least minAgeMs ago. */
  const checkPreferred = async (member: Member, key: string, size: number): Promise<void> => {
    const where = `on preferred store ${member.name}`;
    let info;
    try {
      info = await within(member.store.head(key), `head of blob ${key} ${where}`);
    } catch (error) {
      throw new Keep('preferredUnreachable', errorMessage(error));
    }
    if (!info) throw new Keep('preferredMissing', `no copy ${where}`);
    if (info.size !== size) throw new Keep('copiesDiffer', `the copy ${where} has ${info.size} bytes, this one ${size}`);
    const writtenAt = await writeTimeOf(member, key, where);
    if (writtenAt === undefined) throw new Keep('preferredMissing', `the copy ${where} vanished`);
    const age = now() - writtenAt;
    if (age < minAgeMs) throw new Keep('tooYoung', `the copy ${where} was written ${Math.round(age / 1000)} s ago`);
  };

  const writeTimeOf = async (member: Member, key: string, where: string): Promise<number | undefined> => {
    if (!hasBlobAges(member.store)) throw new Keep('ageUnknown', `store ${member.name} cannot tell when its blobs were written`);
    try {
      return await within(member.store.writtenAt(key), `write time of blob ${key} ${where}`);
    } catch (error) {
      throw new Keep('preferredUnreachable', errorMessage(error));
    }
  };

  /**
   * Throws Keep unless the copy on `member` is still the one checked: written (allowing for clock
   * skew) before the checks began, not deleted and written anew meanwhile.
   */
  const checkUnchanged = async (member: Member, key: string, checksBegan: number): Promise<void> => {
    const writtenAt = await writeTimeOf(member, key, `on store ${member.name}`);
    if (writtenAt === undefined) throw new Keep('changedMeanwhile', `the copy on store ${member.name} vanished`);
    if (writtenAt >= checksBegan - CLOCK_SKEW_ALLOWANCE_MS)
      throw new Keep('changedMeanwhile', `the copy on store ${member.name} was written while it was checked`);
  };

  const digestOf = async (member: Member, key: string): Promise<string> => {
    const stream = await within(member.store.getStream(key), `read of blob ${key} on store ${member.name}`);
    if (!stream) throw new Error(`blob ${key} vanished from store ${member.name}`);
    const hash = createHash('sha256');
    for await (const chunk of stream) hash.update(chunk as Buffer);
    return hash.digest('hex');
  };

  const cleanKey = async ({ key, copies }: MergedEntry): Promise<void> => {
    const preferred = rendezvousOrder(key, names).slice(0, replicas);
    const extras = copies.filter((copy) => !preferred.includes(copy.source));
    if (extras.length === 0) return;
    progress.extraCopies += extras.length;
    const sizes = new Set(copies.map((copy) => copy.size));
    if (sizes.size > 1) {
      fail(key, names[extras[0].source], `its copies differ in size (${copies.map((c) => `${names[c.source]}: ${c.size}`).join(', ')})`);
      return keep(extras.length, 'copiesDiffer');
    }
    const size = copies[0].size;

    const checksBegan = now();
    let removable = extras;
    try {
      for (const index of preferred) await checkPreferred(members[index], key, size);
      if (verifyContent) {
        const preferredDigests = new Set(await Promise.all(preferred.map((index) => digestOf(members[index], key))));
        if (preferredDigests.size > 1) throw new Keep('copiesDiffer', 'its preferred copies differ in content');
        const [digest] = preferredDigests;
        const extraDigests = await Promise.all(extras.map((copy) => digestOf(members[copy.source], key)));
        removable = extras.filter((_, i) => extraDigests[i] === digest);
        if (removable.length < extras.length) {
          keep(extras.length - removable.length, 'copiesDiffer');
          fail(
            key,
            names[extras.find((_, i) => extraDigests[i] !== digest)!.source],
            'this copy differs in content from the preferred copies',
          );
        }
      }
    } catch (error) {
      if (!(error instanceof Keep)) {
        fail(key, names[extras[0].source], errorMessage(error));
        return keep(extras.length, 'preferredUnreachable');
      }
      if (error.reason === 'preferredUnreachable' || error.reason === 'copiesDiffer') fail(key, names[extras[0].source], error.message);
      return keep(extras.length, error.reason);
    }

    for (const copy of removable) {
      const member = members[copy.source];
      try {
        await checkUnchanged(member, key, checksBegan);
      } catch (error) {
        if (!(error instanceof Keep)) throw error;
        const unanswered = error.reason === 'preferredUnreachable';
        if (unanswered) fail(key, member.name, error.message);
        keep(1, unanswered ? 'deleteFailed' : error.reason);
        continue;
      }
      if (!options.dryRun) {
        options.beforeDelete?.(key, member.name);
        try {
          await withTimeout(member.store.delete(key), timeouts.writeTimeoutMs, `delete of blob ${key} on store ${member.name}`);
        } catch (error) {
          fail(key, member.name, errorMessage(error));
          keep(1, 'deleteFailed');
          continue;
        }
      }
      progress.removed += 1;
      progress.bytesFreed += size;
    }
  };

  await walkKeys(members, options, unavailable, async (entry) => {
    await cleanKey(entry);
    progress.keys += 1;
    options.onProgress?.({ ...progress, keptBecause: { ...progress.keptBecause } });
  });

  const unavailableStores = [...unavailable].map(([index, error]) => ({ name: names[index], error }));
  const ok = failures.length === 0 && unavailableStores.length === 0;
  return { ...progress, dryRun: options.dryRun ?? false, failures, unavailableStores, ok };
}
