import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { useWalWithSync, whenUnlocked, type WalSync } from '@gitfleet/storage';
import {
  PermanentJobFailure,
  retryDelayMs,
  type AddOptions,
  type Job,
  type JobHandler,
  type JobQueue,
  type QueueDepth,
  type QueueEvents,
  type RetryPolicy,
} from './job-queue.js';

export interface SqliteJobQueueOptions {
  /** The SQLite file; every process that shares it shares the queue. */
  path: string;
  /** Several queues may live in one file. */
  name: string;
  retry: RetryPolicy;
  concurrency: number;
  /**
   * How long a claimed job stays reserved for its worker without a renewal. A running job's
   * lease is renewed every third of it; a job whose worker died is claimed again once it lapses.
   */
  leaseMs: number;
  /** How often idle workers look for jobs added by other processes (this process's wake them at once). */
  pollMs: number;
  /** How long finished jobs stay, so that adding the same id again is ignored. */
  retentionMs: number;
  events?: QueueEvents;
}

interface Row {
  id: string;
  data: string;
  attempts: number;
}

/** How long a call waits, in all, for another process's transaction before giving up. */
const BUSY_TIMEOUT_MS = 10_000;

/** depth() counts at most this many jobs (a backlog beyond shows as this many). */
const DEPTH_COUNT_LIMIT = 100_000;

/** Finished rows are purged at most this often. */
const PURGE_INTERVAL_MS = 60_000;

/**
 * The embedded mode's job queue: one table in its own SQLite file (WAL; a job is durable before add() resolves),
 * claimed with leases inside IMMEDIATE transactions so that workers of several processes never
 * take the same job.
 *
 * A queued job is due when `run_at` has passed. Claiming it moves `run_at` to the end of the
 * lease: a job whose worker died becomes due again by itself, with no separate lease column
 * to scan. A worker that lost its lease (it stalled past it) cannot finish or reschedule the
 * job any more: every change is conditional on the `claim` token it was given.
 */
export class SqliteJobQueue<T> implements JobQueue<T> {
  private readonly db: Database.Database;
  private readonly statements;
  private readonly claimTransaction;
  private readonly walSync: WalSync;
  private readonly wakers = new Set<() => void>();
  private readonly running = new Set<Promise<void>>();
  private stopping = false;
  private lastPurge = 0;

  constructor(private readonly options: SqliteJobQueueOptions) {
    this.db = new Database(options.path);
    // Setting up may wait for another process (once, at start); later calls wait off the event loop.
    this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // A job added before git is told "ok" must survive a power loss, not only a crash: add()
    // and promote() resolve once the WAL is synced (see WalSync).
    this.walSync = useWalWithSync(this.db, options.path);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS jobs (
        queue       TEXT NOT NULL,
        id          TEXT NOT NULL,
        data        TEXT NOT NULL,
        state       TEXT NOT NULL CHECK (state IN ('queued', 'done', 'failed')),
        run_at      INTEGER NOT NULL,
        attempts    INTEGER NOT NULL DEFAULT 0,
        claim       TEXT,
        finished_at INTEGER,
        last_error  TEXT,
        PRIMARY KEY (queue, id)
      );
      CREATE INDEX IF NOT EXISTS jobs_due ON jobs (queue, state, run_at);
    `);
    this.statements = {
      add: this.db.prepare<[string, string, string, number]>(
        `INSERT INTO jobs (queue, id, data, state, run_at) VALUES (?, ?, ?, 'queued', ?) ON CONFLICT (queue, id) DO NOTHING`,
      ),
      due: this.db.prepare<[string, number], Row>(
        `SELECT id, data, attempts FROM jobs WHERE queue = ? AND state = 'queued' AND run_at <= ? ORDER BY run_at LIMIT 1`,
      ),
      // Waiting: queued and not held by a worker (a claim is cleared when its run ends).
      promote: this.db.prepare<[string, number, string, string]>(
        `UPDATE jobs SET data = ?, run_at = MIN(run_at, ?) WHERE queue = ? AND id = ? AND state = 'queued' AND claim IS NULL`,
      ),
      claim: this.db.prepare<[number, string, string, string]>(
        `UPDATE jobs SET run_at = ?, claim = ?, attempts = attempts + 1 WHERE queue = ? AND id = ?`,
      ),
      renew: this.db.prepare<[number, string, string, string]>(`UPDATE jobs SET run_at = ? WHERE queue = ? AND id = ? AND claim = ?`),
      finish: this.db.prepare<[string, number, string | null, string, string, string]>(
        `UPDATE jobs SET state = ?, finished_at = ?, last_error = ?, claim = NULL WHERE queue = ? AND id = ? AND claim = ?`,
      ),
      reschedule: this.db.prepare<[number, string, string, string, string]>(
        `UPDATE jobs SET run_at = ?, last_error = ?, claim = NULL WHERE queue = ? AND id = ? AND claim = ?`,
      ),
      // A claim whose lease ran out (its worker died) is due again. Counted over at most
      // DEPTH_COUNT_LIMIT jobs: a scrape must not scan a backlog of millions on the event loop.
      depth: this.db.prepare<{ queue: string; now: number; limit: number }, QueueDepth>(
        `SELECT COALESCE(SUM(run_at <= :now), 0) AS due,
                COALESCE(SUM(run_at > :now AND claim IS NULL), 0) AS delayed,
                COALESCE(SUM(run_at > :now AND claim IS NOT NULL), 0) AS running
         FROM (SELECT run_at, claim FROM jobs WHERE queue = :queue AND state = 'queued' LIMIT :limit)`,
      ),
      purge: this.db.prepare<[string, number]>(`DELETE FROM jobs WHERE queue = ? AND state != 'queued' AND finished_at < ?`),
    };
    this.claimTransaction = this.db.transaction((now: number, token: string): Row | undefined => {
      const row = this.statements.due.get(options.name, now);
      if (!row) return undefined;
      this.statements.claim.run(now + options.leaseMs, token, options.name, row.id);
      return { ...row, attempts: row.attempts + 1 };
    });
    this.db.pragma('busy_timeout = 0');
  }

  async add(id: string, data: T, options: AddOptions = {}): Promise<void> {
    // Checked on every try: a sync that failed while this call waited for the lock forbids the write.
    await this.unlocked(
      () => `add of job ${id}`,
      () => {
        this.walSync.assertWritable();
        this.statements.add.run(this.options.name, id, JSON.stringify(data), Date.now() + (options.delayMs ?? 0));
      },
    );
    await this.walSync.sync();
    if (!options.delayMs) for (const wake of this.wakers) wake();
  }

  async promote(id: string, data: T): Promise<boolean> {
    const now = Date.now();
    const { changes } = await this.unlocked(
      () => `promotion of job ${id}`,
      () => {
        this.walSync.assertWritable();
        return this.statements.promote.run(JSON.stringify(data), now, this.options.name, id);
      },
    );
    if (changes === 0) return false;
    await this.walSync.sync();
    for (const wake of this.wakers) wake();
    return true;
  }

  async depth(): Promise<QueueDepth> {
    return this.unlocked(
      () => 'depth',
      () => this.statements.depth.get({ queue: this.options.name, now: Date.now(), limit: DEPTH_COUNT_LIMIT })!,
    );
  }

  /** Jobs of this queue by state (for tests and operators). */
  counts(): Record<'queued' | 'done' | 'failed', number> {
    const rows = this.db
      .prepare<[string], { state: 'queued' | 'done' | 'failed'; n: number }>(
        `SELECT state, COUNT(*) AS n FROM jobs WHERE queue = ? GROUP BY state`,
      )
      .all(this.options.name);
    const counts = { queued: 0, done: 0, failed: 0 };
    for (const { state, n } of rows) counts[state] = n;
    return counts;
  }

  work(handler: JobHandler<T>): void {
    for (let i = 0; i < this.options.concurrency; i++) {
      const worker = this.workLoop(handler);
      this.running.add(worker);
      void worker.finally(() => this.running.delete(worker));
    }
  }

  async close(): Promise<void> {
    this.stopping = true;
    for (const wake of this.wakers) wake();
    await Promise.all(this.running);
    await this.walSync.close();
    if (this.db.open) this.db.close();
  }

  private async workLoop(handler: JobHandler<T>): Promise<void> {
    while (!this.stopping) {
      const token = randomUUID();
      let row: Row | undefined;
      try {
        // Before the claim: a job claimed must run at once, its lease is not renewed before it does.
        await this.purgeNowAndThen();
        // A plain read first: idle polling must not take the write lock every time.
        row = this.statements.due.get(this.options.name, Date.now())
          ? await this.unlocked(
              () => 'claim of a job',
              () => this.claimTransaction.immediate(Date.now(), token),
            )
          : undefined;
      } catch (error) {
        // Another process held the file past the busy timeout, or the disk failed: try later.
        this.options.events?.onRetry?.({ id: '(claim)', data: undefined, attempt: 0 }, error, this.options.pollMs);
      }
      if (!row) {
        await this.idle();
        continue;
      }
      await this.run(handler, row, token);
    }
  }

  private async run(handler: JobHandler<T>, row: Row, token: string): Promise<void> {
    const { name, leaseMs, retry } = this.options;
    const job: Job<T> = { id: row.id, data: JSON.parse(row.data) as T, attempt: row.attempts };
    const renewal = setInterval(
      () => {
        // A missed renewal only risks a second run of the job, which at-least-once allows.
        this.unlocked(
          () => `renewal of job ${row.id}`,
          () => this.statements.renew.run(Date.now() + leaseMs, name, row.id, token),
        ).catch(() => undefined);
      },
      Math.max(1, Math.floor(leaseMs / 3)),
    );
    try {
      await handler(job);
      await this.unlocked(
        () => `end of job ${row.id}`,
        () => this.statements.finish.run('done', Date.now(), null, name, row.id, token),
      );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof PermanentJobFailure || job.attempt >= retry.maxAttempts) {
        await this.unlocked(
          () => `end of job ${row.id}`,
          () => this.statements.finish.run('failed', Date.now(), message, name, row.id, token),
        );
        this.options.events?.onFailed?.(job, error);
      } else {
        const delay = retryDelayMs(retry, job.attempt);
        await this.unlocked(
          () => `retry of job ${row.id}`,
          () => this.statements.reschedule.run(Date.now() + delay, message, name, row.id, token),
        );
        this.options.events?.onRetry?.(job, error, delay);
      }
    } finally {
      clearInterval(renewal);
    }
  }

  /** Waits for the poll interval, a job added by this process, or close(). */
  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, this.options.pollMs);
      this.wakers.add(wake);
    });
  }

  private async purgeNowAndThen(): Promise<void> {
    const now = Date.now();
    if (now - this.lastPurge < PURGE_INTERVAL_MS) return;
    this.lastPurge = now;
    await this.unlocked(
      () => 'purge of finished jobs',
      () => this.statements.purge.run(this.options.name, now - this.options.retentionMs),
    );
  }

  private unlocked<R>(what: () => string, call: () => R): Promise<R> {
    return whenUnlocked(this.db, BUSY_TIMEOUT_MS, () => `job queue ${this.options.name}: ${what()}`, call);
  }
}
