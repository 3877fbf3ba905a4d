import { hostname } from 'node:os';
import {
  collectionDue,
  defaultPackWriter,
  maintainRepository,
  maintenanceNeeded,
  type MaintenanceMode,
  type MaintenanceProgress,
  type MaintenanceReport,
  type Repository,
} from '@gitfleet/repository';
import type { MaintenanceConfig } from '../config.js';
import { CollectionCheck } from '../maintenance/collection-check.js';
import type { MaintenanceAction, MaintenanceOutcome } from '../maintenance/scheduler.js';

/** Names this process (a CLI run, or a server's maintenance child) in a repository's maintenance lease, so an operator can tell who holds it. */
const HOLDER = `${hostname()}:${process.pid}`;

export interface MaintainRequest {
  mode: MaintenanceMode;
  /**
   * A run the server started itself (after pushes, in its sweep): it lists the pack blobs for
   * orphans at most once per quarter of the grace period, where an operator's run always does. A
   * busy repository is compacted every few pushes, and its retired packs stay for the grace period.
   */
  automatic?: boolean;
  signal?: AbortSignal;
  onProgress?(event: MaintenanceProgress): void;
}

/**
 * One maintenance run of `repo` as configured (the CLI's `maintenance run` and the background
 * scheduler share it). `tmpDir` holds the packs being written; it must be on the server's own disk.
 */
export function maintain(
  repo: Repository,
  config: Pick<MaintenanceConfig, 'graceSeconds'>,
  tmpDir: string,
  request: MaintainRequest,
): Promise<MaintenanceReport> {
  return maintainRepository(repo, {
    holder: HOLDER,
    graceSeconds: config.graceSeconds,
    mode: request.mode,
    tmpDir,
    writer: defaultPackWriter,
    signal: request.signal,
    onProgress: request.onProgress,
    orphanListingIntervalMs: request.automatic ? (config.graceSeconds * 1000) / 4 : undefined,
  });
}

/**
 * The check the background scheduler makes after every push: the pack registry, then whether
 * replaced or orphaned packs are past their grace period (a quiet repository still has them).
 */
export function maintenanceCheck(config: Pick<MaintenanceConfig, 'graceSeconds'>): (repo: Repository) => Promise<MaintenanceAction> {
  const collection = new CollectionCheck((repo) => collectionDue(repo, config.graceSeconds * 1000));
  return async (repo) => {
    const action = await maintenanceNeeded(repo);
    if (action !== 'none') return action;
    return (await collection.due(repo)) ? 'collect' : 'none';
  };
}

/**
 * An automatic run in this process, for a server embedded in another program (its configuration
 * an object, not an environment a child could read); `gitfleet serve` runs maintenance in a child
 * process instead (maintenance/child-runner.ts).
 */
export function maintainInProcess(
  config: Pick<MaintenanceConfig, 'graceSeconds'>,
  tmpDir: string,
): (repo: Repository, signal: AbortSignal) => Promise<MaintenanceOutcome> {
  return async (repo, signal) => {
    const report = await maintain(repo, config, tmpDir, { mode: 'auto', automatic: true, signal });
    return { ran: report.ran, report, pid: process.pid };
  };
}
