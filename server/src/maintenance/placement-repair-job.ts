import { setImmediate as yieldToRequests } from 'node:timers/promises';
import type { MaintenanceLease } from '@gitfleet/repository';
import type { KVStore, PlacementBlobStore } from '@gitfleet/storage';
import type { PlacementRepairSchedule } from '../backend-config.js';
import type { Logger } from '../logger.js';
import { placementRepairEnded } from '../metrics/placement.js';
import { repairPlacement, type PlacementRepairOutcome } from '../operations/repair-placement.js';
import { checkFleetLayout, layoutRefusal } from './placement-layout.js';
import { DEFAULT_PLACEMENT_REPAIR_LEASE_MS, removalGuard, underPlacementRepairLease } from './placement-repair-lease.js';
import { kvSweepClock, type SweepClock } from './sweep-clock.js';

/** The key of the fleet's clock of the job (in the scope of the maintenance sweep's clock). */
export const PLACEMENT_REPAIR_CLOCK_KEY = 'placement-last-repair';
/** How often a long run logs how far it got. */
const PROGRESS_LOG_MS = 60 * 1000;

export interface PlacementRepairJobOptions extends PlacementRepairSchedule {
  /**
   * How old preferred copies must be before cleanup removes the copies elsewhere: the packs' grace
   * period (longer than any push), raised to the placement's cleanupAgeFloorMs if that is longer.
   */
  cleanupMinAgeMs: number;
  /** Who this process is, in the lease (host and pid). */
  holder: string;
  leaseMs?: number;
}

/** What one attempt came to: the run's outcome, or why there was none. */
export type PlacementRepairAttempt =
  | { kind: 'ran'; outcome: PlacementRepairOutcome }
  /** The fleet's interval since its last run is not over; `waitMs` until it is. */
  | { kind: 'notDue'; waitMs: number }
  /** Another runner holds the lease. */
  | { kind: 'busy' };

/**
 * Repairs (and cleans) the placement in the background, for the whole fleet once per interval:
 * every server process runs a job, and they share two KV entries.
 *
 * - The clock (`gitfleet` / `placement-last-repair`): when the last run that ended had started.
 *   A process started in the middle of an interval waits for the fleet's interval, not its own;
 *   a run that dies leaves the clock as it was, so the next attempt retries it.
 * - The lease (`gitfleet-placement-repair` / `maintenance:lease`, a MaintenanceLease): held for
 *   the whole run and renewed every third of its duration, so one runner works at a time. A
 *   runner that dies stops renewing and loses the lease when it expires; one that cannot renew
 *   stops before its next blob, and refuses to delete a copy with less than a third of its lease
 *   left (a stalled runner wakes up to find its lease gone rather than deleting on).
 *
 * Cleanup runs only when this process's placement layout is the fleet's recorded one (see
 * placement-layout.ts; the first runner of a new fleet records it); otherwise the run repairs only.
 *
 * Paced: a few blobs at a time (`concurrency`), yielding to the event loop before each, so that
 * the requests the process serves come first.
 */
export class PlacementRepairJob {
  private readonly clock: SweepClock;
  private readonly leaseMs: number;
  private readonly cleanupMinAgeMs: number;
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly placement: PlacementBlobStore,
    private readonly kv: KVStore,
    private readonly options: PlacementRepairJobOptions,
    private readonly logger: Logger,
  ) {
    this.clock = kvSweepClock(kv, PLACEMENT_REPAIR_CLOCK_KEY);
    this.leaseMs = options.leaseMs ?? DEFAULT_PLACEMENT_REPAIR_LEASE_MS;
    this.cleanupMinAgeMs = Math.max(options.cleanupMinAgeMs, placement.cleanupAgeFloorMs);
  }

  /** Plans the first attempt; a no-op when the interval is 0. */
  start(): void {
    if (this.options.intervalMs <= 0) return;
    this.logger.info(
      {
        intervalMs: this.options.intervalMs,
        cleanup: this.options.cleanup,
        cleanupMinAgeMs: this.cleanupMinAgeMs,
        concurrency: this.options.concurrency,
      },
      'placement repair: background job started',
    );
    this.plan(0);
  }

  /** Runs unless the fleet's interval is not over or another runner holds the lease. */
  async runIfDue(): Promise<PlacementRepairAttempt> {
    const last = await this.clock.last();
    const now = Date.now();
    // The fleet's first process starts the clock: a new fleet has nothing to repair.
    if (last === undefined && (await this.clock.claim(undefined, now))) return { kind: 'notDue', waitMs: this.options.intervalMs };
    if (last === undefined || now < last + this.options.intervalMs)
      return { kind: 'notDue', waitMs: Math.max(0, (last ?? now) + this.options.intervalMs - now) };
    return this.runLeased(async (lease, signal) => {
      // Another runner may have ended a run between the look at the clock and the lease.
      if ((await this.clock.last()) !== last) return undefined;
      const startedAt = Date.now();
      const outcome = await this.run(lease, signal);
      await this.clock.claim(last, startedAt);
      return outcome;
    });
  }

  /** Runs now, whatever the clock says, unless another runner holds the lease. */
  runNow(): Promise<PlacementRepairAttempt> {
    return this.runLeased((lease, signal) => this.run(lease, signal));
  }

  /** Stops planning, stops a running run before its next blob, and waits for it. */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.stopping.abort(new Error('the server is shutting down'));
    await this.running?.catch(() => undefined);
  }

  private async runLeased(
    work: (lease: MaintenanceLease, signal: AbortSignal) => Promise<PlacementRepairOutcome | undefined>,
  ): Promise<PlacementRepairAttempt> {
    const held = await underPlacementRepairLease(this.kv, this.options.holder, this.leaseMs, this.stopping.signal, work);
    if (!held) return { kind: 'busy' };
    return held.result ? { kind: 'ran', outcome: held.result } : { kind: 'notDue', waitMs: this.options.intervalMs };
  }

  private async run(lease: MaintenanceLease, signal: AbortSignal): Promise<PlacementRepairOutcome> {
    const started = Date.now();
    let logged = started;
    const logProgress = (phase: string, progress: object) => {
      if (Date.now() - logged < PROGRESS_LOG_MS) return;
      logged = Date.now();
      this.logger.info({ phase, progress }, 'placement repair: in progress');
    };
    this.logger.info({ holder: lease.holder }, 'placement repair: run started');
    try {
      const refusal = this.options.cleanup
        ? layoutRefusal(this.placement.layout, await checkFleetLayout(this.kv, this.placement.layout, { recordIfAbsent: true }))
        : undefined;
      if (refusal) this.logger.warn({ reason: refusal }, 'placement repair: cleanup refused, repairing only');
      const outcome = await repairPlacement(this.placement, {
        cleanup: this.options.cleanup && !refusal,
        dryRun: false,
        cleanupMinAgeMs: this.cleanupMinAgeMs,
        concurrency: this.options.concurrency,
        pace: () => yieldToRequests(),
        signal,
        beforeDelete: removalGuard(lease),
        onRepairProgress: (progress) => logProgress('repair', progress),
        onCleanupProgress: (progress) => logProgress('cleanup', progress),
      });
      placementRepairEnded(outcome);
      const { repair, cleanup, ok } = outcome;
      const summary = {
        ms: Date.now() - started,
        repair: { ...repair, failures: repair.failures.slice(0, 10) },
        cleanup: cleanup && { ...cleanup, failures: cleanup.failures.slice(0, 10) },
      };
      if (ok) this.logger.info(summary, 'placement repair: run ended');
      else this.logger.warn(summary, 'placement repair: run ended incomplete; the next run retries');
      return outcome;
    } catch (error) {
      placementRepairEnded('failed');
      this.logger.warn({ err: error, ms: Date.now() - started }, 'placement repair: run stopped');
      throw error;
    }
  }

  private plan(delayMs: number): void {
    if (this.stopping.signal.aborted) return;
    this.timer = setTimeout(() => {
      const attempt = this.runIfDue();
      this.running = attempt;
      attempt
        .then(
          (result) => this.plan(result.kind === 'notDue' ? result.waitMs : result.kind === 'busy' ? this.leaseMs : this.options.intervalMs),
          (error: unknown) => {
            if (!this.stopping.signal.aborted)
              this.logger.warn({ err: error }, 'placement repair: attempt failed; trying again in a lease');
            this.plan(this.leaseMs);
          },
        )
        .finally(() => {
          if (this.running === attempt) this.running = undefined;
        });
    }, delayMs);
    this.timer.unref();
  }
}
