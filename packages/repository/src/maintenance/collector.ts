import type { CasOp } from '@gitfleet/storage';
import {
  DELETING_KEY_PREFIX,
  ORPHAN_KEY_PREFIX,
  PACK_KEY_PREFIX,
  deletingKey,
  orphanKey,
  packBlobKeys,
  packKey,
  packsBlobPrefix,
  parsePackBlobName,
  parsePackRecord,
  repositoryScope,
} from '../keys.js';
import type { Repository } from '../repository.js';
import { MaintenanceLease } from './lease.js';

export interface CollectOptions {
  /**
   * How long a retired pack stays readable, and how long unregistered blobs are left alone after
   * they were first seen. It must exceed the registry's view age (PackSetOptions.maxAgeMs) plus
   * the longest request or push.
   */
  graceMs: number;
  /** Milliseconds since the epoch; tests pass a clock of their own. */
  now?: () => number;
  signal?: AbortSignal;
}

export interface CollectReport {
  /** Retired packs deleted (blobs and record). */
  collected: string[];
  /** Unregistered packs whose blobs were deleted. */
  orphansCollected: string[];
  /** Unregistered packs seen for the first time (deleted by a run one grace period later). */
  orphansSighted: string[];
}

/**
 * Deletes what the repository no longer needs, under the maintenance lease (every registry
 * write expects it):
 *
 * - Retired packs, once retired longer than the grace period: their blobs first, then the record,
 *   so that a run cut short leaves a record that the next run finishes. By then no process reads
 *   them: each re-reads the registry at least every maxAgeMs, and no request outlives the rest of
 *   the grace period; one that somehow does recovers in PackAccess.retryingRetired.
 *
 * - Orphaned blobs (`repos/<id>/packs/pack-<checksum>.*` with no record: a push that stored its pack
 *   and crashed before registering it, or a maintenance run that stopped before publishing). Blobs
 *   have no usable time here, so the first sighting is recorded as `orphan:<checksum>`, and the
 *   blobs are deleted only when still unregistered a grace period later.
 *
 * Why a pack added while the collector runs is never deleted:
 * - It is registered within its push, which stores blobs and registers them in less time than
 *   the grace period: blobs first seen at T that belong to a live push are registered before
 *   T + grace, so they are never unregistered at T + grace.
 * - The deletion itself starts with one CAS that writes `deleting:<checksum>` only if `pack:<checksum>`
 *   is absent at that instant; PackAccess.add registers only if `deleting:<checksum>` is absent, and
 *   otherwise waits until the deletion is over and stores its blobs again. So a push of the very
 *   same pack that found the old blobs already stored (putIfAbsent did nothing) either registers
 *   before the mark (the collector then deletes nothing) or after the deletion (with its own blobs).
 * - A retired record is never re-registered: a push of a pack equal to a retired one finds the
 *   record and stops, and the objects are in the pack that replaced it.
 */
export async function collectPacks(repo: Repository, lease: MaintenanceLease, options: CollectOptions): Promise<CollectReport> {
  const now = options.now ?? Date.now;
  const { kv, blobs } = repo.stores;
  const scope = repositoryScope(repo.info.id);
  const report: CollectReport = { collected: [], orphansCollected: [], orphansSighted: [] };
  const fencedCas = (ops: CasOp[], doing: string) =>
    lease.fenced(async (leaseValue) => {
      const { conflicts } = await kv.compareAndSwap(scope, [MaintenanceLease.fence(leaseValue), ...ops], 'all');
      if (conflicts[0] === 0) throw lease.lost(doing);
      return conflicts.length === 0;
    });
  const deleteBlobsOf = async (checksum: string) => {
    // Listed rather than named: sidecars of an unpublished pack have no record to name them.
    for await (const { key } of blobs.list(`${packsBlobPrefix(repo.info.id)}pack-${checksum}.`)) await blobs.delete(key);
  };
  const elapsed = (iso: string) => now() - Date.parse(iso);

  const records = new Map<string, string>();
  for (const { key, value } of await kv.scan(scope, PACK_KEY_PREFIX)) records.set(key.slice(PACK_KEY_PREFIX.length), value);

  for (const [checksum, value] of records) {
    options.signal?.throwIfAborted();
    const record = parsePackRecord(value, checksum, scope);
    if (record.retiredAt === undefined || !(elapsed(record.retiredAt) > options.graceMs)) continue;
    for (const key of packBlobKeys(repo.info.id, checksum, record.sidecars)) await blobs.delete(key);
    if (await fencedCas([{ key: packKey(checksum), expect: value, value: null }], 'deleting a retired pack')) {
      report.collected.push(checksum);
    }
  }

  // Deletions of orphans that a run began and did not finish.
  for (const { key, value } of await kv.scan(scope, DELETING_KEY_PREFIX)) {
    options.signal?.throwIfAborted();
    const checksum = key.slice(DELETING_KEY_PREFIX.length);
    await deleteBlobsOf(checksum);
    await fencedCas([{ key, expect: value, value: null }], 'finishing an orphan deletion');
  }

  const sightings = new Map<string, string>();
  for (const { key, value } of await kv.scan(scope, ORPHAN_KEY_PREFIX)) sightings.set(key.slice(ORPHAN_KEY_PREFIX.length), value);
  // Listed after the records were read: a pack registered in between looks unregistered, which
  // only records a sighting (the deletion CAS below re-checks the record).
  const unregistered = new Set<string>();
  for await (const { key } of blobs.list(packsBlobPrefix(repo.info.id))) {
    const parsed = parsePackBlobName(key.slice(packsBlobPrefix(repo.info.id).length));
    if (parsed && !records.has(parsed.checksum)) unregistered.add(parsed.checksum);
  }

  for (const checksum of unregistered) {
    options.signal?.throwIfAborted();
    const seenAt = sightings.get(checksum);
    if (seenAt === undefined) {
      const sighting = new Date(now()).toISOString();
      if (await fencedCas([{ key: orphanKey(checksum), expect: null, value: sighting }], 'recording an orphan')) {
        report.orphansSighted.push(checksum);
      }
      continue;
    }
    if (!(elapsed(seenAt) > options.graceMs)) continue;
    const mark = new Date(now()).toISOString();
    const marked = await fencedCas(
      [
        { key: deletingKey(checksum), expect: null, value: mark, requireAbsent: { keys: [packKey(checksum)] } },
        { key: orphanKey(checksum), expect: seenAt, value: null },
      ],
      'marking an orphan for deletion',
    );
    if (!marked) continue;
    await deleteBlobsOf(checksum);
    await fencedCas([{ key: deletingKey(checksum), expect: mark, value: null }], 'ending an orphan deletion');
    report.orphansCollected.push(checksum);
  }

  // Sightings of packs registered since, or whose blobs are gone.
  for (const [checksum, seenAt] of sightings) {
    if (unregistered.has(checksum)) continue;
    await fencedCas([{ key: orphanKey(checksum), expect: seenAt, value: null }], 'forgetting an orphan sighting');
  }
  return report;
}
