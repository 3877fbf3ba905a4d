import type { CasOp, KVEntry } from '@gitfleet/storage';
import {
  ADDING_KEY_PREFIX,
  BLOB_STATE_KEY_PREFIX,
  DELETING_KEY_PREFIX,
  ORPHAN_KEY_PREFIX,
  ORPHANS_LISTED_KEY,
  PACK_KEY_PREFIX,
  addingKeyPrefix,
  checksumOfAddingKey,
  deletingKey,
  entriesAfter,
  orphanKey,
  packBlobKeys,
  packKey,
  packsBlobPrefix,
  parsePackBlobName,
  parsePackRecord,
  repositoryScope,
  type PackRecord,
} from '../keys.js';
import type { Repository } from '../repository.js';
import type { MaintenanceLease } from './lease.js';

export interface CollectOptions {
  /**
   * How long a retired pack stays readable, how long unregistered blobs are left alone after they
   * were first seen, and how long a push's claim on blobs it is storing holds. It must exceed the
   * registry's view age (PackSetOptions.maxAgeMs) plus the longest request or push.
   */
  graceMs: number;
  /**
   * Lists the pack blobs to find new orphans only when the last listing is at least this old
   * (absent: every run lists). A listing reads every blob name of the repository, retired packs
   * included, and a busy repository is compacted every few pushes; between listings a run still
   * collects the orphans sighted before, and orphans are rare (a push or run that crashed).
   */
  orphanListingIntervalMs?: number;
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
  /** Packs whose claim by a push was older than the grace period and was removed (the push crashed, or was never to finish). */
  claimsExpired: string[];
}

/**
 * Deletes what the repository no longer needs, under the maintenance lease (every registry write
 * expects it, and every blob deletion requires it held for a third of its duration yet):
 *
 * - Retired packs, once retired longer than the grace period. By then no process reads them: each
 *   re-reads the registry at least every maxAgeMs, and no request outlives the rest of the grace
 *   period; one that somehow does recovers in PackAccess.retryingRetired.
 * - Orphaned blobs (`repos/<id>/packs/pack-<checksum>.*` with no record: a push that stored its pack
 *   and crashed before registering it, or a maintenance run that stopped before publishing). Blobs
 *   have no usable time here, so the first sighting is recorded as `blobs:orphan:<checksum>`, and
 *   the blobs are deleted only when still unregistered a grace period later.
 * - Claims (`blobs:adding:<checksum>:<token>`) older than the grace period.
 *
 * THE ORDERING that keeps a registered pack's blobs from being deleted (the push's side is in
 * PackAccess.add):
 *
 * Every deletion of a pack's blobs happens between two CASes of this collector: one that writes
 * the mark `blobs:deleting:<checksum>`, and one that removes it after the deletions. Each CAS that
 * writes (or resumes) a mark requires that no push's claim on the pack exists, and that the pack is
 * unregistered (orphans) or still has the retired record read (retired packs). A push claims only
 * while no mark and no record exist, and registers only in a CAS that expects its claim unchanged.
 * So a push registers only if its claim stood from before any mark of the pack until registration:
 * no deletion overlapped its store and register steps. Maintenance publishes under the same lease,
 * so no collector runs meanwhile, and publishPacks requires the pack unmarked. A claim's age
 * decides only when it is removed: a push whose claim was removed fails its register CAS and
 * stores again, so no clock can make a registered pack lose its blobs.
 *
 * What a crash between two steps leaves, and how the next run goes on:
 * - Orphan: sighting → [mark, with the sighting removed] → delete blobs → [unmark]. A crash after
 *   the mark leaves a mark with some blobs: the next run resumes it, after re-asserting the mark in
 *   a CAS that requires the pack unregistered and unclaimed (otherwise it drops the mark and
 *   deletes nothing). Pushes of the pack wait while a mark stands.
 * - Retired: [mark, expecting the record as read] → delete blobs → [remove record and mark in
 *   one CAS]. A crash after the mark leaves the retired record and the mark: readers still find the
 *   objects in the pack that replaced it, a push of the same pack finds the record and stops there,
 *   and the next run marks again (expecting the old mark) and finishes.
 * - Claims: one CAS each; nothing in between.
 *
 * The blob store knows nothing of the lease: a runner stalled past it could still delete blobs
 * that the next holder has re-stored and registered since. Hence deletions stop once less than a
 * third of the lease is left (MaintenanceLease.assertHeldFor): a runner renewing on schedule always
 * has more, and the margin bounds how late a deletion request may reach the store.
 */
export async function collectPacks(repo: Repository, lease: MaintenanceLease, options: CollectOptions): Promise<CollectReport> {
  return new Collection(repo, lease, options).run();
}

/**
 * Whether a maintenance run would collect something now: a retired pack past its grace period, a
 * deletion left unfinished, an orphan sighting or a push's claim older than the grace period. Cheap
 * enough for a scheduler to call after every push: the registry view and one KV scan.
 * Orphaned blobs that no key mentions yet are found only by a run (it lists the blobs).
 */
export async function collectionDue(
  repo: Pick<Repository, 'info' | 'stores' | 'packs'>,
  graceMs: number,
  now: () => number = Date.now,
): Promise<boolean> {
  const pastGrace = (iso: string) => now() - Date.parse(iso) > graceMs;
  if ((await repo.packs.retired()).some((pack) => pastGrace(pack.retiredAt!))) return true;
  const state = await repo.stores.kv.scan(repositoryScope(repo.info.id), BLOB_STATE_KEY_PREFIX);
  return state.some(({ key, value }) => key.startsWith(DELETING_KEY_PREFIX) || pastGrace(value));
}

/** One run of the collector: the registry and the blob state as read at its start, and the steps over them. */
class Collection {
  private readonly now: () => number;
  private readonly scope: string;
  private readonly report: CollectReport = { collected: [], orphansCollected: [], orphansSighted: [], claimsExpired: [] };

  constructor(
    private readonly repo: Repository,
    private readonly lease: MaintenanceLease,
    private readonly options: CollectOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.scope = repositoryScope(repo.info.id);
  }

  async run(): Promise<CollectReport> {
    const { kv } = this.repo.stores;
    const records = entriesAfter(await kv.scan(this.scope, PACK_KEY_PREFIX), PACK_KEY_PREFIX);
    const state = await kv.scan(this.scope, BLOB_STATE_KEY_PREFIX);
    const marks = entriesAfter(state, DELETING_KEY_PREFIX);
    const sightings = entriesAfter(state, ORPHAN_KEY_PREFIX);

    await this.removeExpiredClaims(state.filter(({ key }) => key.startsWith(ADDING_KEY_PREFIX)));
    for (const [checksum, value] of records) {
      this.options.signal?.throwIfAborted();
      const record = parsePackRecord(value, checksum, this.scope);
      if (record.retiredAt === undefined || !this.pastGrace(record.retiredAt)) continue;
      await this.deleteRetired(checksum, value, record, marks.get(checksum));
      marks.delete(checksum);
    }
    for (const [checksum, mark] of marks) {
      this.options.signal?.throwIfAborted();
      await this.resumeOrphanDeletion(checksum, mark);
    }
    const listing = await this.dueListing();
    const unregistered = listing
      ? await this.listUnregistered(records, listing)
      : new Set([...sightings.keys()].filter((checksum) => !records.has(checksum)));
    for (const checksum of unregistered) {
      this.options.signal?.throwIfAborted();
      await this.collectOrphan(checksum, sightings.get(checksum));
    }
    // Sightings of packs registered since, or whose blobs are gone.
    for (const [checksum, seenAt] of sightings) {
      if (unregistered.has(checksum)) continue;
      await this.fencedCas([{ key: orphanKey(checksum), expect: seenAt, value: null }], 'forgetting an orphan sighting');
    }
    return this.report;
  }

  /**
   * Whether this run lists the pack blobs (orphanListingIntervalMs), and if so what it expects of
   * the listing time recorded: the time is written once the listing is through.
   */
  private async dueListing(): Promise<{ previous: string | null } | undefined> {
    const interval = this.options.orphanListingIntervalMs;
    if (interval === undefined) return { previous: null };
    const listedAt = await this.repo.stores.kv.get(this.scope, ORPHANS_LISTED_KEY);
    if (listedAt !== undefined && this.now() - Date.parse(listedAt) < interval) return undefined;
    return { previous: listedAt ?? null };
  }

  /**
   * Checksums of the pack blobs that have no record. Listed after the records were read: a pack
   * registered in between looks unregistered, which only records a sighting (the marking CAS
   * re-checks the record).
   */
  private async listUnregistered(records: ReadonlyMap<string, string>, listing: { previous: string | null }): Promise<Set<string>> {
    const startedAt = this.timestamp();
    const prefix = packsBlobPrefix(this.repo.info.id);
    const unregistered = new Set<string>();
    for await (const { key } of this.repo.stores.blobs.list(prefix)) {
      const parsed = parsePackBlobName(key.slice(prefix.length));
      if (parsed && !records.has(parsed.checksum)) unregistered.add(parsed.checksum);
    }
    if (this.options.orphanListingIntervalMs !== undefined) {
      await this.fencedCas([{ key: ORPHANS_LISTED_KEY, expect: listing.previous, value: startedAt }], 'recording an orphan listing');
    }
    return unregistered;
  }

  /** A push holds its claim for less than the grace period; one that does not loses it, and its register CAS fails. */
  private async removeExpiredClaims(claims: readonly KVEntry[]): Promise<void> {
    for (const { key, value } of claims) {
      if (!this.pastGrace(value)) continue;
      if (await this.fencedCas([{ key, expect: value, value: null }], 'removing an expired claim')) {
        this.report.claimsExpired.push(checksumOfAddingKey(key));
      }
    }
  }

  /** `leftover`: the mark of a run that stopped while deleting this pack. */
  private async deleteRetired(checksum: string, record: string, parsed: PackRecord, leftover: string | undefined): Promise<void> {
    const mark = this.timestamp();
    const marked = await this.fencedCas(
      [
        { key: deletingKey(checksum), expect: leftover ?? null, value: mark, requireAbsent: { prefixes: [addingKeyPrefix(checksum)] } },
        { key: packKey(checksum), expect: record, value: record },
      ],
      'marking a retired pack for deletion',
    );
    if (!marked) return;
    for (const key of packBlobKeys(this.repo.info.id, checksum, parsed)) await this.deleteBlob(key);
    const deleted = await this.fencedCas(
      [
        { key: packKey(checksum), expect: record, value: null },
        { key: deletingKey(checksum), expect: mark, value: null },
      ],
      'deleting a retired pack',
    );
    if (deleted) this.report.collected.push(checksum);
  }

  /**
   * Finishes the deletion a run marked and did not end, unless the pack has been registered or
   * claimed since (only under a mark written by an older version, or by hand: nothing registers or
   * claims a marked pack): then the mark goes and the blobs stay.
   */
  private async resumeOrphanDeletion(checksum: string, mark: string): Promise<void> {
    const reasserted = await this.fencedCas(
      [{ key: deletingKey(checksum), expect: mark, value: mark, requireAbsent: unclaimedAndUnregistered(checksum) }],
      'resuming the deletion of unregistered blobs',
    );
    if (reasserted) await this.deleteBlobsOf(checksum);
    await this.fencedCas([{ key: deletingKey(checksum), expect: mark, value: null }], 'ending the deletion of unregistered blobs');
    if (reasserted) this.report.orphansCollected.push(checksum);
  }

  private async collectOrphan(checksum: string, seenAt: string | undefined): Promise<void> {
    if (seenAt === undefined) {
      const sighting = this.timestamp();
      if (await this.fencedCas([{ key: orphanKey(checksum), expect: null, value: sighting }], 'recording an orphan')) {
        this.report.orphansSighted.push(checksum);
      }
      return;
    }
    if (!this.pastGrace(seenAt)) return;
    const mark = this.timestamp();
    const marked = await this.fencedCas(
      [
        { key: deletingKey(checksum), expect: null, value: mark, requireAbsent: unclaimedAndUnregistered(checksum) },
        { key: orphanKey(checksum), expect: seenAt, value: null },
      ],
      'marking an orphan for deletion',
    );
    if (!marked) return;
    await this.deleteBlobsOf(checksum);
    await this.fencedCas([{ key: deletingKey(checksum), expect: mark, value: null }], 'ending an orphan deletion');
    this.report.orphansCollected.push(checksum);
  }

  /** Listed rather than named: sidecars of an unpublished pack have no record to name them. */
  private async deleteBlobsOf(checksum: string): Promise<void> {
    for await (const { key } of this.repo.stores.blobs.list(`${packsBlobPrefix(this.repo.info.id)}pack-${checksum}.`)) {
      await this.deleteBlob(key);
    }
  }

  private async deleteBlob(key: string): Promise<void> {
    this.lease.assertHeldFor(this.lease.durationMs / 3, `deleting ${key}`);
    await this.repo.stores.blobs.delete(key);
  }

  private fencedCas(ops: CasOp[], doing: string): Promise<boolean> {
    return this.lease.compareAndSwap(ops, doing);
  }

  private pastGrace(iso: string): boolean {
    return this.now() - Date.parse(iso) > this.options.graceMs;
  }

  private timestamp(): string {
    return new Date(this.now()).toISOString();
  }
}

/** The condition under which the collector may mark a pack's blobs for deletion as unregistered. */
function unclaimedAndUnregistered(checksum: string): CasOp['requireAbsent'] {
  return { keys: [packKey(checksum)], prefixes: [addingKeyPrefix(checksum)] };
}
