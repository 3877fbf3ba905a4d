import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ObjectId } from '@gitfleet/git-format';
import { repositoryScope, type PackKind } from '../keys.js';
import { DEFAULT_REGISTRY_MAX_AGE_MS, type PackAccess, type PackInfo } from '../pack-access.js';
import type { Repository } from '../repository.js';
import { pruneJournal, type JournalPruning } from '../journal/prune.js';
import { collectPacks } from './collector.js';
import { collectLfsObjects, emptyLfsCollectReport, type LfsCollectReport } from './lfs-collector.js';
import { MaintenanceLease, type LeaseValue } from './lease.js';
import { DEFAULT_MAINTENANCE_POLICY, chooseMaintenance, compactionPlan, type MaintenancePolicy } from './policy.js';
import { publishPacks, type PackToPublish } from './publish.js';
import { repackTips, type RepackTips } from './repack-tips.js';

/** A pack the writer stage wrote to a local file (the pack writer's WrittenPack fits). */
export interface NewPack {
  path: string;
  size: number;
  checksum: ObjectId;
  idx: Buffer;
  objectCount: number;
  /** Files in git's formats stored beside the pack, by extension (`rev`, `bitmap`): written before the pack is published. */
  sidecars?: ReadonlyMap<string, Buffer>;
}

export interface WriteOptions {
  onProgress?(done: number, total: number): void;
  signal?: AbortSignal;
}

/** What writes the packs maintenance publishes: the pack writer (rewritePack, objectsOfPacks, cloneOrder) behind one seam. */
export interface PackWriterStage {
  /** One pack holding every object of `checksums`, written to `path`. */
  compact(packs: PackAccess, checksums: readonly string[], path: string, options: WriteOptions): Promise<NewPack>;
  /**
   * The objects of `fromPacks` reachable from `tips.clone`, in clone order; those only
   * `tips.rest` reaches, whose deltas may name bases in the first pack (read with it, never
   * alone); and a cruft pack of the others: the last two absent when empty. Written into `dir`.
   */
  repack(
    repo: Repository,
    tips: RepackTips,
    fromPacks: readonly string[],
    dir: string,
    options: WriteOptions,
  ): Promise<{ main: NewPack; rest?: NewPack; cruft?: NewPack }>;
}

export type MaintenanceMode = 'auto' | 'compact' | 'full';

export type MaintenancePhase = 'plan' | 'write' | 'store' | 'publish' | 'collect';

/** What a CLI shows while maintenance runs. */
export interface MaintenanceProgress {
  phase: MaintenancePhase;
  action: 'none' | 'compact' | 'full';
  /** For 'write': objects written so far and in all. */
  done?: number;
  total?: number;
}

export interface MaintainOptions {
  /** Names this runner in the lease (host and process, say); each run gets a token of its own besides. */
  holder: string;
  /** How long retired and orphaned packs stay; must exceed the registry view age plus the longest request. */
  graceSeconds: number;
  mode: MaintenanceMode;
  /** Where packs are written before they are stored; a directory of this run's own is made in it and always removed. */
  tmpDir: string;
  writer: PackWriterStage;
  onProgress?(event: MaintenanceProgress): void;
  signal?: AbortSignal;
  /** How often the collector lists the pack blobs for orphans, at most (CollectOptions; absent: every run). */
  orphanListingIntervalMs?: number;
  /** Lease duration, renewed every third of it while the run lasts; default 300 s. */
  leaseSeconds?: number;
  policy?: Partial<MaintenancePolicy>;
  /** Milliseconds since the epoch; tests pass a clock of their own. */
  now?: () => number;
}

export interface MaintenanceReport {
  /** False when another holder has the lease: nothing was done. */
  ran: boolean;
  action: 'none' | 'compact' | 'full';
  /** Active packs before and after. */
  packsBefore: number;
  packsAfter: number;
  objectsWritten: number;
  /** Packs this run retired. */
  retired: string[];
  /** Retired packs (of this run or earlier ones) deleted after their grace period. */
  collected: string[];
  orphansCollected: string[];
  /** Git LFS objects no reachable pointer references: sighted, and collected after the grace period. */
  lfs: LfsCollectReport;
  /** Journal checkpoints recovery no longer reads, deleted. */
  journalPruned: JournalPruning;
  durationMs: number;
}

const DEFAULT_LEASE_SECONDS = 300;

/** The maintenance run under way on `repo` anywhere in the fleet (whoever holds its lease), or undefined. */
export function maintenanceUnderWay(repo: Repository): Promise<LeaseValue | undefined> {
  return MaintenanceLease.held(repo.stores.kv, repositoryScope(repo.info.id));
}

/**
 * One maintenance run of one repository, by at most one runner of the fleet at a time: take the
 * lease, collect what outlived its grace period, then compact or fully repack as the mode and the
 * policy say, publishing the new packs and retiring the old ones in one CAS.
 */
export async function maintainRepository(repo: Repository, options: MaintainOptions): Promise<MaintenanceReport> {
  const startedAt = performance.now();
  const now = options.now ?? Date.now;
  const graceMs = options.graceSeconds * 1000;
  const viewMaxAgeMs = repo.stores.registry?.maxAgeMs ?? DEFAULT_REGISTRY_MAX_AGE_MS;
  if (!(graceMs > viewMaxAgeMs)) {
    throw new RangeError(
      `maintenance grace period (${options.graceSeconds} s) must exceed the registry view age (${viewMaxAgeMs / 1000} s) plus the longest request`,
    );
  }
  const report: MaintenanceReport = {
    ran: false,
    action: 'none',
    packsBefore: 0,
    packsAfter: 0,
    objectsWritten: 0,
    retired: [],
    collected: [],
    orphansCollected: [],
    lfs: emptyLfsCollectReport(),
    journalPruned: { checkpoints: 0 },
    durationMs: 0,
  };
  const leaseMs = (options.leaseSeconds ?? DEFAULT_LEASE_SECONDS) * 1000;
  const lease = await MaintenanceLease.acquire(repo.stores.kv, repositoryScope(repo.info.id), options.holder, leaseMs, now);
  if (!lease) return { ...report, durationMs: performance.now() - startedAt };
  report.ran = true;

  // A lost lease stops the writer early; publishing would fail anyway (fencing).
  const leaseLost = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, leaseLost.signal]) : leaseLost.signal;
  const renewal = setInterval(() => void lease.renew().catch((error: unknown) => leaseLost.abort(error)), leaseMs / 3);
  let work: string | undefined;
  try {
    work = await mkdtemp(path.join(options.tmpDir, 'maintenance-'));
    await repo.packs.refresh();
    const active = await repo.packs.list();
    report.packsBefore = report.packsAfter = active.length;
    const tips = repackTips(options.mode === 'compact' ? [] : await repo.refs.list());
    const plan = planRun(options.mode, active, tips, { ...DEFAULT_MAINTENANCE_POLICY, ...options.policy });
    report.action = plan.action;
    const progress = (phase: MaintenancePhase, done?: number, total?: number) =>
      options.onProgress?.({ phase, action: plan.action, done, total });
    progress('plan');

    // Before anything is stored: collecting finishes a deletion an earlier run left unfinished,
    // which may concern the very pack this run is about to write and publish (publishPacks
    // refuses a pack whose blobs are marked for deletion). Collecting after publishing would
    // find nothing more: the packs this run retires are within their grace period.
    progress('collect');
    const collected = await collectPacks(repo, lease, { graceMs, now, signal, orphanListingIntervalMs: options.orphanListingIntervalMs });
    report.collected = collected.collected;
    report.orphansCollected = collected.orphansCollected;
    report.lfs = await collectLfsObjects(repo, lease, { graceMs, now, signal });

    if (plan.action !== 'none') {
      const write: WriteOptions = { signal, onProgress: (done, total) => progress('write', done, total) };
      const written =
        plan.action === 'compact'
          ? [
              {
                pack: await options.writer.compact(repo.packs, plan.replaced, path.join(work, 'compaction.pack'), write),
                kind: 'compaction' as const,
              },
            ]
          : await writeFullRepack(options.writer, repo, tips, plan.replaced, work, write);
      progress('store');
      const added: PackToPublish[] = [];
      for (const { pack, kind } of written) {
        signal.throwIfAborted();
        const index = await repo.packs.store(pack.path, pack.size, pack.idx, pack.checksum);
        const sidecars = [...(pack.sidecars ?? [])];
        for (const [extension, bytes] of sidecars) await repo.packs.storeSidecar(pack.checksum, extension, bytes);
        added.push({ checksum: pack.checksum, size: pack.size, index, kind, sidecars: sidecars.map(([extension]) => extension) });
        report.objectsWritten += pack.objectCount;
      }
      progress('publish');
      report.retired = (await publishPacks(repo, lease, { added, replaced: plan.replaced, now })).retired;
      report.packsAfter = (await repo.packs.list()).length;
    }
    // Last: a store that fails to delete an old checkpoint costs this run nothing else.
    report.journalPruned = await pruneJournal(repo.stores.blobs, repo.info.id, signal);
  } catch (error) {
    // The writer stopped because the lease was lost: that is the cause to report.
    throw leaseLost.signal.aborted ? leaseLost.signal.reason : error;
  } finally {
    clearInterval(renewal);
    if (work !== undefined) await rm(work, { recursive: true, force: true });
    await lease.release();
  }
  report.durationMs = performance.now() - startedAt;
  return report;
}

type RunPlan = { action: 'none' } | { action: 'compact' | 'full'; replaced: string[] };

function planRun(mode: MaintenanceMode, active: readonly PackInfo[], tips: RepackTips, policy: MaintenancePolicy): RunPlan {
  const decision =
    mode === 'full'
      ? { action: 'full' as const }
      : mode === 'compact'
        ? // Asked for explicitly: any two packs that break the progression are worth merging.
          { action: 'compact' as const, merge: compactionPlan(active, { ...policy, compactAbovePacks: 1 }) }
        : chooseMaintenance(active, policy);
  if (decision.action === 'compact' && decision.merge.length > 0)
    return { action: 'compact', replaced: decision.merge.map((p) => p.checksum) };
  // With no ref, every object would be cruft: nothing to gain.
  if (decision.action === 'full' && active.length > 0 && tips.clone.length > 0)
    return { action: 'full', replaced: active.map((p) => p.checksum) };
  return { action: 'none' };
}

async function writeFullRepack(
  writer: PackWriterStage,
  repo: Repository,
  tips: RepackTips,
  fromPacks: readonly string[],
  dir: string,
  options: WriteOptions,
): Promise<{ pack: NewPack; kind: PackKind }[]> {
  const { main, rest, cruft } = await writer.repack(repo, tips, fromPacks, dir, options);
  // The clone pack first: publishPacks names it the successor of the packs it replaces.
  const written: { pack: NewPack; kind: PackKind }[] = [{ pack: main, kind: 'repack' }];
  if (rest) written.push({ pack: rest, kind: 'repack-rest' });
  if (cruft) written.push({ pack: cruft, kind: 'cruft' });
  return written;
}
