import { HttpError } from '../http-errors.js';

export interface PushLimits {
  /** Pushes received at once by this process (each may spool up to the pack limit on disk). */
  maxPushes: number;
  /** Pushes received at once for one account. */
  maxPushesPerAccount: number;
  /**
   * How long a push beyond those waits for a slot before it is refused (429 when its account
   * holds its share, else 503). A CI bot pushing many branches at once is queued, not failed.
   */
  waitMs: number;
}

const RETRY_AFTER_SECONDS = 10;

interface Waiter {
  account: string;
  grant(release: () => void): void;
  refuse(error: HttpError): void;
}

/**
 * Admission of pushes, before any pack byte is spooled: the spool disk in use is at most
 * maxPushes × the pack limit, and one account cannot take all of it. A push beyond the limits
 * waits, in arrival order among those that could run, for at most waitMs; no more pushes wait
 * than could run (maxPushes in all, maxPushesPerAccount per account), so waiting holds nothing
 * unbounded either: its request body is not read meanwhile.
 */
export class PushSlots {
  private total = 0;
  private readonly perAccount = new Map<string, number>();
  private readonly waiting: Waiter[] = [];

  constructor(private readonly limits: PushLimits) {}

  /**
   * A slot for `account`, once one is free; call the returned function once the push is over.
   * Rejects with HttpError 429/503 when none frees up in time or too many already wait, and
   * with the signal's reason when the client goes away while waiting.
   */
  async acquire(account: string, signal?: AbortSignal): Promise<() => void> {
    if (this.fits(account) && !this.waiting.some((waiter) => waiter.account === account)) return this.take(account);
    const refusal = this.refusal(account);
    const waitingForAccount = this.waiting.filter((waiter) => waiter.account === account).length;
    if (this.limits.waitMs === 0 || this.waiting.length >= this.limits.maxPushes || waitingForAccount >= this.limits.maxPushesPerAccount) {
      throw refusal;
    }
    signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      const leave = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.waiting.splice(this.waiting.indexOf(waiter), 1);
      };
      const onAbort = () => {
        leave();
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        account,
        grant: (release) => {
          leave();
          resolve(release);
        },
        refuse: (error) => {
          leave();
          reject(error);
        },
      };
      const timer = setTimeout(() => waiter.refuse(this.refusal(account)), this.limits.waitMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  /** Pushes holding a slot and waiting for one (read by monitoring). */
  stats(): { running: number; queued: number } {
    return { running: this.total, queued: this.waiting.length };
  }

  private fits(account: string): boolean {
    return this.total < this.limits.maxPushes && (this.perAccount.get(account) ?? 0) < this.limits.maxPushesPerAccount;
  }

  private refusal(account: string): HttpError {
    if ((this.perAccount.get(account) ?? 0) >= this.limits.maxPushesPerAccount) {
      return new HttpError(
        429,
        `too many pushes at once for ${account} (at most ${this.limits.maxPushesPerAccount}); retry when one has finished`,
        {
          retryAfterSeconds: RETRY_AFTER_SECONDS,
        },
      );
    }
    return new HttpError(503, `the server is receiving its limit of ${this.limits.maxPushes} pushes; retry later`, {
      retryAfterSeconds: RETRY_AFTER_SECONDS,
    });
  }

  private take(account: string): () => void {
    this.total++;
    this.perAccount.set(account, (this.perAccount.get(account) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.perAccount.get(account) ?? 1) - 1;
      if (left > 0) this.perAccount.set(account, left);
      else this.perAccount.delete(account);
      this.admitWaiting();
    };
  }

  /** The first waiter whose account has room gets the freed slot (a full account does not block others). */
  private admitWaiting(): void {
    const next = this.waiting.find((waiter) => this.fits(waiter.account));
    if (next) next.grant(this.take(next.account));
  }
}
