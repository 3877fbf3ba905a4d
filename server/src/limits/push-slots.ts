import { HttpError } from '../http-errors.js';

export interface PushLimits {
  /** Pushes received at once by this process (each may spool up to the pack limit on disk); beyond, 503. */
  maxPushes: number;
  /** Pushes received at once for one account; beyond, 429. */
  maxPushesPerAccount: number;
}

const RETRY_AFTER_SECONDS = 10;

/**
 * Admission of pushes, before any pack byte is spooled: the spool disk in use is at most
 * maxPushes × the pack limit, and one account cannot take all of it.
 */
export class PushSlots {
  private total = 0;
  private readonly perAccount = new Map<string, number>();

  constructor(private readonly limits: PushLimits) {}

  /** Takes a slot for `account`; call the returned function once the push is over. Throws HttpError 429/503 when full. */
  acquire(account: string): () => void {
    const held = this.perAccount.get(account) ?? 0;
    if (held >= this.limits.maxPushesPerAccount) {
      throw new HttpError(429, `too many pushes at once for ${account} (at most ${this.limits.maxPushesPerAccount}); retry when one has finished`, {
        retryAfterSeconds: RETRY_AFTER_SECONDS,
      });
    }
    if (this.total >= this.limits.maxPushes) {
      throw new HttpError(503, `the server is receiving its limit of ${this.limits.maxPushes} pushes; retry later`, { retryAfterSeconds: RETRY_AFTER_SECONDS });
    }
    this.total++;
    this.perAccount.set(account, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.perAccount.get(account) ?? 1) - 1;
      if (left > 0) this.perAccount.set(account, left);
      else this.perAccount.delete(account);
    };
  }
}
