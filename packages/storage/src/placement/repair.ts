import type { BlobStore } from '../blob-store.js';
import { guardedCopy } from './guarded-body.js';
import { walkKeys, type KeyWalkOptions } from './key-walk.js';
import type { MergedEntry } from './merge-listings.js';
import { errorMessage } from './placement-error.js';
import { rendezvousOrder } from './rendezvous.js';
import { withTimeout } from './timeout.js';

export interface RepairProgress {
  /** Distinct keys examined so far. */
  keys: number;
  /** Keys that already had a copy on each of their preferred stores. */
  healthy: number;
  /** Keys that lacked copies on preferred stores and now have them all. */
  repaired: number;
  /** Copies this repair wrote (in a dry run: would write). */
  copies: number;
  bytesCopied: number;
  /** Keys that still lack a copy on a preferred store (see `failures`). */
  failed: number;
}

export interface RepairReport extends RepairProgress {
  /** Why keys failed: the first MAX_REPORTED_FAILURES of them. */
  failures: Array<{ key: string; error: string }>;
  /**
   * Stores that could not be listed. Their copies were not counted and no copy was made on
   * them; every key preferring them was placed on the next stores in order instead.
   */
  unavailableStores: Array<{ name: string; error: string }>;
  /** True when every key has R copies on its preferred stores and every store was listed. */
  ok: boolean;
}

export interface RepairOptions extends KeyWalkOptions {
  /** Counts the copies repair would make, and makes none. */
  dryRun?: boolean;
  /** Called after each key with the counts so far. */
  onProgress?: (progress: RepairProgress) => void;
}

interface Member {
  name: string;
  store: BlobStore;
}

const MAX_REPORTED_FAILURES = 100;

/**
 * Walks the merged listings of every store (streaming: one pending entry per store) and,
 * for each key, copies it onto each of its preferred stores that lacks it, from any store
 * that has it, then checks the copy's size with a head. Copies on stores that are no longer
 * preferred are kept: removing them is a collector's decision, not repair's.
 */
export async function repairPlacement(
  members: readonly Member[],
  replicas: number,
  timeouts: { readTimeoutMs: number; writeTimeoutMs: number },
  options: RepairOptions,
): Promise<RepairReport> {
  const names = members.map((member) => member.name);
  const unavailable = new Map<number, string>();
  const progress: RepairProgress = { keys: 0, healthy: 0, repaired: 0, copies: 0, bytesCopied: 0, failed: 0 };
  const failures: RepairReport['failures'] = [];
  const fail = (key: string, error: string) => {
    progress.failed += 1;
    if (failures.length < MAX_REPORTED_FAILURES) failures.push({ key, error });
  };

  const copyOnto = async (key: string, size: number, sources: Member[], target: Member): Promise<boolean> => {
    const errors: string[] = [];
    for (const source of sources) {
      try {
        const { body } = guardedCopy(source, key, size, timeouts.readTimeoutMs);
        const wrote = await withTimeout(
          target.store.putIfAbsent(key, body),
          timeouts.writeTimeoutMs,
          `copy of blob ${key} onto store ${target.name}`,
        );
        const info = await withTimeout(target.store.head(key), timeouts.readTimeoutMs, `head of blob ${key} on store ${target.name}`);
        if (info?.size !== size)
          throw new Error(`the copy on ${target.name} has ${info ? `${info.size} bytes` : 'vanished'}, expected ${size} bytes`);
        return wrote;
      } catch (error) {
        errors.push(`from ${source.name}: ${errorMessage(error)}`);
      }
    }
    throw new Error(`no copy onto ${target.name} (${errors.join('; ') || 'no store to copy from'})`);
  };

  const repairKey = async ({ key, copies }: MergedEntry): Promise<void> => {
    const sizes = [...new Set(copies.map((copy) => copy.size))];
    if (sizes.length > 1) {
      const held = copies.map((copy) => `${names[copy.source]}: ${copy.size}`).join(', ');
      return fail(key, `its copies differ in size (${held}); not copying either`);
    }
    const size = sizes[0];
    const order = rendezvousOrder(key, names).filter((index) => !unavailable.has(index));
    const targets = order.slice(0, replicas);
    const holders = new Set(copies.map((copy) => copy.source));
    const missing = targets.filter((index) => !holders.has(index));
    const sources = order.filter((index) => holders.has(index)).map((index) => members[index]);
    const errors: string[] = [];
    for (const index of missing) {
      if (options.dryRun) {
        progress.copies += 1;
        progress.bytesCopied += size;
        continue;
      }
      try {
        if (await copyOnto(key, size, sources, members[index])) {
          progress.copies += 1;
          progress.bytesCopied += size;
        }
      } catch (error) {
        errors.push(errorMessage(error));
      }
    }
    if (targets.length < replicas) errors.push(`only ${targets.length} of the ${replicas} stores it needs are available`);
    if (errors.length > 0) fail(key, errors.join('; '));
    else if (missing.length === 0) progress.healthy += 1;
    else progress.repaired += 1;
  };

  await walkKeys(members, options, unavailable, async (entry) => {
    await repairKey(entry);
    progress.keys += 1;
    options.onProgress?.({ ...progress });
  });

  const unavailableStores = [...unavailable].map(([index, error]) => ({ name: names[index], error }));
  return { ...progress, failures, unavailableStores, ok: progress.failed === 0 && unavailableStores.length === 0 };
}
