import type { PasswordCheckConfig } from '../config.js';
import { HttpError } from '../http-errors.js';
import type { LoginThrottle } from './constants.js';

/** Seconds a client refused for checks in flight is told to wait: one check takes a fraction of that. */
const BUSY_RETRY_AFTER_SECONDS = 1;

/**
 * Every password check of the server (the web sign-in, Basic credentials on git and the API)
 * goes through here, under two bounds:
 * - The throttle: an attempt spends its point before its password is verified (a right one
 *   gets it back), so a burst sent at once is cut at the limit like a slow series.
 * - Checks in flight: argon2 runs on libuv's thread pool, which file reads and zlib share, and
 *   takes tens of megabytes each. At most `concurrent` run at once and `queue` wait (503 beyond),
 *   and one address has at most `perIp` running or waiting (429 beyond); a refusal costs nothing.
 *   These bound this process's own pool, so they are counted per process, not per fleet.
 */
export class LoginGuard {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly pendingByIp = new Map<string, number>();

  constructor(
    private readonly throttle: LoginThrottle,
    private readonly limits: PasswordCheckConfig,
  ) {}

  /**
   * Runs `verification`, a password check of user `name` for a client at `ip` (undefined: the
   * password is wrong); throws HttpError 429 (throttled, or too many from `ip` at once) or 503
   * (too many at once) instead.
   */
  async verify<T>(ip: string, name: string, verification: () => Promise<T | undefined>): Promise<T | undefined> {
    const leave = this.admit(ip);
    try {
      await this.turn();
      try {
        await this.throttle.consume(ip, name);
        const verified = await verification();
        // A right password is not refused because its earlier failures could not be forgotten
        // (the count unavailable for a moment): they only go on counting until their window ends.
        if (verified !== undefined) await this.throttle.recordSuccess(ip, name).catch(() => undefined);
        return verified;
      } finally {
        this.passTurn();
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
    return { running: this.running, queued: this.waiting.length };
  }

  close(): Promise<void> {
    return this.throttle.close();
  }

  /** Counts the check as pending for `ip` (synchronously, so concurrent requests cannot slip past the caps); returns its release. */
  private admit(ip: string): () => void {
    const pending = this.pendingByIp.get(ip) ?? 0;
    if (pending >= this.limits.perIp) {
      throw new HttpError(429, `too many password checks at once from ${ip} (at most ${this.limits.perIp}): try again in a moment`, {
        retryAfterSeconds: BUSY_RETRY_AFTER_SECONDS,
      });
    }
    if (this.running >= this.limits.concurrent && this.waiting.length >= this.limits.queue) {
      throw new HttpError(503, `the server is checking too many passwords at once: try again in a moment`, {
        retryAfterSeconds: BUSY_RETRY_AFTER_SECONDS,
      });
    }
    this.pendingByIp.set(ip, pending + 1);
    let left = false;
    return () => {
      if (left) return;
      left = true;
      const now = (this.pendingByIp.get(ip) ?? 1) - 1;
      if (now === 0) this.pendingByIp.delete(ip);
      else this.pendingByIp.set(ip, now);
    };
  }

  private async turn(): Promise<void> {
    if (this.running < this.limits.concurrent) {
      this.running++;
      return;
    }
    // The finishing check hands its turn over directly (running stays the same).
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private passTurn(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }
}
