import { randomUUID } from 'node:crypto';
import type { CasOp, KVStore } from '@gitfleet/storage';
import { MAINTENANCE_LEASE_KEY } from '../keys.js';

/** What `maintenance:lease` holds. The token tells two runs apart even when their holder names are equal. */
export interface LeaseValue {
  holder: string;
  token: string;
  /** ISO 8601. */
  expiresAt: string;
}

/** Thrown when a run no longer holds the lease it needs (it expired and another holder took it). */
export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

/**
 * The right to maintain one repository, for one runner of the whole fleet at a time: a KV entry
 * taken by compare-and-swap when absent or expired. Every write maintenance makes to the registry
 * expects the lease's current value in the same CAS (fencing): a runner whose lease expired and
 * was taken by another cannot publish or delete anything, whatever it still believes.
 *
 * Blob deletions cannot be fenced that way: the blob store knows nothing of the lease. So the
 * runner tracks the expiry it last wrote and deletes a blob only while more than a safety margin
 * of the lease is left (assertHeldFor): a runner stalled past its lease refuses to delete when it
 * wakes, instead of deleting blobs the next holder may have re-stored and published since.
 *
 * Expiry compares clocks of different servers: keep them synchronized well within the lease duration.
 */
export class MaintenanceLease {
  private value: string;
  /** The expiry this runner last wrote: no other runner takes the lease before it. */
  private expiresAt: number;
  /** Renewals and fenced writes run one at a time, so that a write always expects the current value. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly kv: KVStore,
    private readonly scope: string,
    /** How long the lease lasts from its last renewal. */
    readonly durationMs: number,
    private readonly now: () => number,
    private readonly current: LeaseValue,
  ) {
    this.value = JSON.stringify(current);
    this.expiresAt = Date.parse(current.expiresAt);
  }

  /** Takes the lease of `scope` for `durationMs`, or returns undefined when another holder's lease has not expired. */
  static async acquire(
    kv: KVStore,
    scope: string,
    holder: string,
    durationMs: number,
    now: () => number = Date.now,
  ): Promise<MaintenanceLease | undefined> {
    const existing = await kv.get(scope, MAINTENANCE_LEASE_KEY);
    if (existing !== undefined && !isExpired(existing, now())) return undefined;
    const taken: LeaseValue = { holder, token: randomUUID(), expiresAt: new Date(now() + durationMs).toISOString() };
    const { conflicts } = await kv.compareAndSwap(
      scope,
      [{ key: MAINTENANCE_LEASE_KEY, expect: existing ?? null, value: JSON.stringify(taken) }],
      'all',
    );
    return conflicts.length === 0 ? new MaintenanceLease(kv, scope, durationMs, now, taken) : undefined;
  }

  /** Who holds the lease of `scope` now, and until when; undefined when nobody does (absent, expired or unreadable). */
  static async held(kv: KVStore, scope: string, now: () => number = Date.now): Promise<LeaseValue | undefined> {
    const existing = await kv.get(scope, MAINTENANCE_LEASE_KEY);
    if (existing === undefined || isExpired(existing, now())) return undefined;
    return JSON.parse(existing) as LeaseValue;
  }

  get holder(): string {
    return this.current.holder;
  }

  /** Extends the lease by its duration from now; throws LeaseLostError when another holder has it. */
  renew(): Promise<void> {
    return this.exclusive(async () => {
      const renewed: LeaseValue = { ...this.current, expiresAt: new Date(this.now() + this.durationMs).toISOString() };
      const value = JSON.stringify(renewed);
      const { conflicts } = await this.kv.compareAndSwap(this.scope, [{ key: MAINTENANCE_LEASE_KEY, expect: this.value, value }], 'all');
      if (conflicts.length > 0) throw this.lost('renewing');
      this.value = value;
      this.expiresAt = Date.parse(renewed.expiresAt);
    });
  }

  /**
   * Throws LeaseLostError unless the lease is held for more than `marginMs` yet, by the expiry
   * this runner wrote. Called right before each blob deletion: the margin must exceed the time a
   * deletion request may take to reach the store (and the clocks' skew).
   */
  assertHeldFor(marginMs: number, doing: string): void {
    const left = this.expiresAt - this.now();
    if (!(left > marginMs)) {
      throw new LeaseLostError(
        `${this.scope}: maintenance lease of ${this.current.holder} expires in ${left} ms, within the ${marginMs} ms margin required for ${doing}`,
      );
    }
  }

  /**
   * Runs a registry write that must be fenced: `write` gets the lease's current value, to expect
   * in its CAS (unchanged: `{ key: MAINTENANCE_LEASE_KEY, expect: value, value }`).
   */
  fenced<T>(write: (leaseValue: string) => Promise<T>): Promise<T> {
    return this.exclusive(() => write(this.value));
  }

  /**
   * A CAS in the lease's scope, fenced: true when applied, false on a conflict of `ops`; throws
   * LeaseLostError when the lease is another holder's.
   */
  compareAndSwap(ops: readonly CasOp[], doing: string): Promise<boolean> {
    return this.fenced(async (leaseValue) => {
      const { conflicts } = await this.kv.compareAndSwap(this.scope, [MaintenanceLease.fence(leaseValue), ...ops], 'all');
      if (conflicts[0] === 0) throw this.lost(doing);
      return conflicts.length === 0;
    });
  }

  /** The CAS op that fences a write: the lease must still hold `leaseValue`. */
  static fence(leaseValue: string): { key: string; expect: string; value: string } {
    return { key: MAINTENANCE_LEASE_KEY, expect: leaseValue, value: leaseValue };
  }

  /** Gives the lease up; a no-op when it was lost already. */
  release(): Promise<void> {
    return this.exclusive(async () => {
      await this.kv.compareAndSwap(this.scope, [{ key: MAINTENANCE_LEASE_KEY, expect: this.value, value: null }], 'all');
    });
  }

  lost(doing: string): LeaseLostError {
    return new LeaseLostError(`${this.scope}: maintenance lease of ${this.current.holder} lost while ${doing}`);
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function isExpired(value: string, now: number): boolean {
  let expiresAt: number;
  try {
    expiresAt = Date.parse((JSON.parse(value) as Partial<LeaseValue>).expiresAt ?? '');
  } catch {
    // An unreadable lease protects nothing: take it over.
    return true;
  }
  return !(expiresAt > now);
}
