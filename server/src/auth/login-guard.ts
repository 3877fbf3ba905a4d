import type { PasswordCheckConfig } from '../config.js';
import { HttpError } from '../http-errors.js';
import { ownWorkerSlot } from '../cluster/messages.js';
import { LocalTurns, MACHINE_TURN_KINDS, MachineTurns, type Turns } from '../cluster/turns.js';
import type { LoginThrottle } from './constants.js';

/** Seconds a client refused for checks in flight is told to wait: one check takes a fraction of that. */
const BUSY_RETRY_AFTER_SECONDS = 1;

/** The turns of password checks: a worker of Gitfleet's cluster takes the machine's, granted by the primary; a process serving alone, its own. */
export function passwordCheckTurns(limits: PasswordCheckConfig): Turns {
  return ownWorkerSlot() === undefined ? new LocalTurns(limits.concurrent) : new MachineTurns(MACHINE_TURN_KINDS.passwordChecks);
}

/**
 * Every password check of the server (the web sign-in, Basic credentials on git and the API)
 * goes through here, under two bounds:
 * - The throttle: an attempt spends its point before its password is verified (a right one
 *   gets it back), so a burst sent at once is cut at the limit like a slow series.
 * - Checks in flight: argon2 runs on libuv's thread pool, which file reads and zlib share, and
 *   takes a core and tens of megabytes for each check. The checks take `turns`: `concurrent` at
 *   once in this process, or for the whole machine when the cluster's primary grants them (a
 *   burst spread over every worker would otherwise take every core). Of this process's checks, at
 *   most `concurrent` + `queue` are admitted (503 beyond), and one address has at most `perIp`
 *   running or waiting (429 beyond); a refusal costs nothing.
 */
export class LoginGuard {
  /** Checks admitted and not yet finished: waiting for a turn or running. */
  private admitted = 0;
  private running = 0;
  private readonly pendingByIp = new Map<string, number>();

  constructor(
    private readonly throttle: LoginThrottle,
    private readonly limits: PasswordCheckConfig,
    private readonly turns: Turns = new LocalTurns(limits.concurrent),
  ) {}

  /**
   * Runs `verification`, a password check of user `name` for a client at `ip` (undefined: the
   * password is wrong); throws HttpError 429 (throttled, or too many from `ip` at once) or 503
   * (too many at once) instead.
   */
  async verify<T>(ip: string, name: string, verification: () => Promise<T | undefined>): Promise<T | undefined> {
    const leave = this.admit(ip);
    try {
      const giveBack = await this.turns.take().catch((error: unknown) => {
        throw new HttpError(503, `no turn for a password check (${(error as Error).message}): try again in a moment`, {
          retryAfterSeconds: BUSY_RETRY_AFTER_SECONDS,
        });
      });
      this.running++;
      try {
        await this.throttle.consume(ip, name);
        const verified = await verification();
        // A right password is not refused because its earlier failures could not be forgotten
        // (the count unavailable for a moment): they only go on counting until their window ends.
        if (verified !== undefined) await this.throttle.recordSuccess(ip, name).catch(() => undefined);
        return verified;
      } finally {
        this.running--;
        giveBack();
      }
    } finally {
      leave();
    }
  }

  /** A credential refused without a password check (an unknown token): a failed attempt of the address (429 once over). */
  async countFailure(ip: string, user?: string): Promise<void> {
    await this.throttle.consume(ip, user);
  }

  /** Password checks running and waiting for a turn (read by monitoring). */
  stats(): { running: number; queued: number } {
    return { running: this.running, queued: this.turns.waiting() };
  }

  close(): Promise<void> {
    return this.throttle.close();
  }

  /**
   * The refusal a password check from `ip` would get at this moment for the checks already in
   * flight (429 for the address, 503 for the process); undefined when it would be admitted.
   */
  refusalNow(ip: string): HttpError | undefined {
    if ((this.pendingByIp.get(ip) ?? 0) >= this.limits.perIp) {
      return new HttpError(429, `too many password checks at once from ${ip} (at most ${this.limits.perIp}): try again in a moment`, {
        retryAfterSeconds: BUSY_RETRY_AFTER_SECONDS,
      });
    }
    if (this.admitted >= this.limits.concurrent + this.limits.queue) {
      return new HttpError(503, `the server is checking too many passwords at once: try again in a moment`, {
        retryAfterSeconds: BUSY_RETRY_AFTER_SECONDS,
      });
    }
    return undefined;
  }

  /** Counts the check as pending for `ip` (synchronously, so concurrent requests cannot slip past the caps); returns its release. */
  private admit(ip: string): () => void {
    const refusal = this.refusalNow(ip);
    if (refusal) throw refusal;
    this.pendingByIp.set(ip, (this.pendingByIp.get(ip) ?? 0) + 1);
    this.admitted++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.admitted--;
      const now = (this.pendingByIp.get(ip) ?? 1) - 1;
      if (now === 0) this.pendingByIp.delete(ip);
      else this.pendingByIp.set(ip, now);
    };
  }
}
