import type { Repository, RepositoryInfo } from '@gitfleet/repository';
import type { Logger } from '../logger.js';
import { maintenanceRunEnded } from '../metrics/maintenance.js';
import type { MaintenanceOutcome } from './outcome.js';
import type { SweepClock } from './sweep-clock.js';

export type { MaintenanceOutcome } from './outcome.js';

/** What a repository needs: `collect` only deletes packs whose grace period is over. */
export type MaintenanceAction = 'none' | 'compact' | 'full' | 'collect';

/** What the scheduler needs of maintenance: a cheap check and the run itself (see openMaintenance in index.ts). */
export interface MaintenanceRunner {
  /** Cheap (see maintenanceCheck in operations/maintain-repository.ts): it runs after every push. */
  needed(repo: Repository): Promise<MaintenanceAction>;
  /** Rejects with `signal.reason` once `signal` stopped it. */
  run(repo: Repository, signal: AbortSignal): Promise<MaintenanceOutcome>;
}

export interface MaintenanceSchedule {
  /** Repositories maintained at once by this process (each run holds the repository's lease in the fleet). */
  concurrency: number;
  /** Every repository is checked this often, for those no push triggered (0: never). */
  sweepIntervalMs: number;
}

interface SchedulerDependencies {
  runner: MaintenanceRunner;
  open(info: RepositoryInfo): Repository;
  listRepositories(): Promise<RepositoryInfo[]>;
  /** What the fleet collects once per sweep, beyond each repository's maintenance: deleted repositories, the registry's old journal. */
  collectFleetGarbage(signal: AbortSignal): Promise<void>;
  sweepClock: SweepClock;
  logger: Logger;
  /** Told of each run of this process that published a full repack (new bitmaps and commit-graph). */
  onRepacked?(info: RepositoryInfo): void;
}

/**
 * Decides when a server process maintains which repository: after a push that leaves it needing
 * maintenance, and in a periodic sweep over every repository. The runner does the run (in a child
 * process: see child-runner.ts). A repository is queued once however many pushes ask for it; runs
 * never overlap within the process, and the lease each run takes in the KV store keeps the rest of
 * the fleet out. Failures are logged and retried by the next trigger: maintenance only ever makes
 * reads faster, so nothing waits for it.
 */
export class MaintenanceScheduler {
  /** Waiting for a turn, by repository id. */
  private readonly waiting = new Map<string, RepositoryInfo>();
  /** Repository ids being maintained now. */
  private readonly active = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(
    private readonly schedule: MaintenanceSchedule,
    private readonly deps: SchedulerDependencies,
  ) {}

  start(): void {
    if (this.schedule.sweepIntervalMs <= 0) return;
    this.planSweep();
  }

  /** A push changed `repo`: queue it when its packs call for maintenance. Never throws, never waits for the run. */
  afterPush(repo: Repository): void {
    if (this.stopping.signal.aborted || this.isScheduled(repo.info.id)) return;
    this.consider(repo).catch((error: unknown) =>
      this.deps.logger.warn({ err: error, repo: repo.info.id }, 'maintenance check after a push failed'),
    );
  }

  /** Checks every repository once, then collects the fleet's garbage (the periodic sweep; also for tests and the CLI). */
  async sweep(): Promise<void> {
    const repositories = await this.deps.listRepositories();
    for (const info of repositories) {
      if (this.stopping.signal.aborted) return;
      if (this.isScheduled(info.id)) continue;
      await this.consider(this.deps.open(info)).catch((error: unknown) =>
        this.deps.logger.warn({ err: error, repo: info.id }, 'maintenance check in the sweep failed'),
      );
    }
    await this.deps
      .collectFleetGarbage(this.stopping.signal)
      .catch((error: unknown) => this.deps.logger.warn({ err: error }, "collecting the fleet's garbage failed"));
  }

  /** Repositories being maintained and waiting for a turn (read by monitoring). */
  stats(): { running: number; queued: number } {
    return { running: this.active.size, queued: this.waiting.size };
  }

  /** Resolves when nothing is queued or running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /** Stops the sweep, asks running maintenance to stop (a stopped run publishes nothing), waits for it. */
  async close(): Promise<void> {
    clearTimeout(this.sweepTimer);
    this.stopping.abort(new Error('the server is shutting down'));
    this.waiting.clear();
    await this.sweeping?.catch(() => undefined);
    await this.idle();
  }

  /** Sets the timer of the next sweep: when the fleet's interval since its last sweep is over. */
  private planSweep(): void {
    const interval = this.schedule.sweepIntervalMs;
    const plan = async (): Promise<number> => {
      const clock = this.deps.sweepClock;
      let last = await clock.last();
      // The fleet's first process starts the clock: its interval runs from now.
      if (last === undefined && (await clock.claim(undefined, Date.now()))) return interval;
      last ??= await clock.last();
      return Math.max(0, (last ?? Date.now()) + interval - Date.now());
    };
    plan().then(
      (delay) => this.setSweepTimer(delay),
      (error: unknown) => {
        this.deps.logger.warn({ err: error }, 'the time of the last maintenance sweep could not be read; trying again in an interval');
        this.setSweepTimer(interval);
      },
    );
  }

  private setSweepTimer(delay: number): void {
    if (this.stopping.signal.aborted) return;
    this.sweepTimer = setTimeout(() => {
      this.sweeping ??= this.sweepWhenDue()
        .catch((error: unknown) => this.deps.logger.warn({ err: error }, 'the maintenance sweep failed'))
        .finally(() => {
          this.sweeping = undefined;
          this.planSweep();
        });
    }, delay);
    this.sweepTimer.unref();
  }

  /** Sweeps if the fleet's interval is over and this process is the one to claim it. */
  private async sweepWhenDue(): Promise<void> {
    const clock = this.deps.sweepClock;
    const last = await clock.last();
    const now = Date.now();
    if (last !== undefined && now < last + this.schedule.sweepIntervalMs) return;
    if (await clock.claim(last, now)) await this.sweep();
  }

  private async consider(repo: Repository): Promise<void> {
    const action = await this.deps.runner.needed(repo);
    if (action === 'none' || this.isScheduled(repo.info.id) || this.stopping.signal.aborted) return;
    this.waiting.set(repo.info.id, repo.info);
    this.pump();
  }

  /** Waiting or running: a push meanwhile is covered by the run, or by the next trigger after it. */
  private isScheduled(id: string): boolean {
    return this.waiting.has(id) || this.active.has(id);
  }

  private pump(): void {
    for (const [id, info] of this.waiting) {
      if (this.running.size >= this.schedule.concurrency) return;
      this.waiting.delete(id);
      this.active.add(id);
      const run: Promise<void> = this.maintain(info).finally(() => {
        this.running.delete(run);
        this.active.delete(id);
        this.pump();
      });
      this.running.add(run);
    }
  }

  private async maintain(info: RepositoryInfo): Promise<void> {
    const started = Date.now();
    try {
      const outcome = await this.deps.runner.run(this.deps.open(info), this.stopping.signal);
      const { ran, report, pid } = outcome;
      maintenanceRunEnded((Date.now() - started) / 1000, outcome);
      if (ran) this.deps.logger.info({ repo: info.id, maintainer: pid, report, ms: Date.now() - started }, 'repository maintained');
      if (ran && report?.action === 'full') this.deps.onRepacked?.(info);
    } catch (error) {
      if (this.stopping.signal.aborted) return;
      maintenanceRunEnded((Date.now() - started) / 1000, 'failed');
      // A warning, not an error: nothing waits for maintenance, and the next trigger retries it.
      this.deps.logger.warn({ err: error, repo: info.id }, 'maintenance failed');
    }
  }
}
