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
import type { MaintenanceRunner } from '../maintenance/scheduler.js';

/** Names this process in a repository's maintenance lease, so an operator can tell which server holds it. */
const HOLDER = `${hostname()}:${process.pid}`;

export interface MaintainRequest {
  mode: MaintenanceMode;
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
  });
}

/** What the background scheduler runs: the cheap check after pushes, then an automatic run. */
export function maintenanceRunner(config: Pick<MaintenanceConfig, 'graceSeconds'>, tmpDir: string): MaintenanceRunner {
  return {
    // A quiet repository still has replaced and orphaned packs to delete once their grace period is over.
    needed: async (repo) => {
      const action = await maintenanceNeeded(repo);
      if (action !== 'none') return action;
      return (await collectionDue(repo, config.graceSeconds * 1000)) ? 'collect' : 'none';
    },
    run: (repo, signal) => maintain(repo, config, tmpDir, { mode: 'auto', signal }),
  };
}
