import type { KVStore } from '@gitfleet/storage';
import type { DeliveryEvent, HookTarget } from '../hooks/hook.js';
import { hookKey, hookScope } from '../hooks/hook-store.js';

/**
 * One attempt to deliver an event to a hook, as GitHub's delivery log shows it: every attempt
 * (automatic retry or manual redelivery) is a row of its own with a numeric id, and all attempts
 * of one event share its guid (the X-GitHub-Delivery header).
 */
export interface DeliveryAttempt {
  id: number;
  guid: string;
  hookId: number;
  event: DeliveryEvent;
  action: string | null;
  /** GitHub's numeric repository id, as payloads carry it. */
  repositoryId: number | null;
  /** True for an attempt of a manual redelivery. */
  redelivery: boolean;
  /** 1 for the first attempt of a delivery (or redelivery), 2 for its first retry… */
  attempt: number;
  url: string;
  deliveredAt: string;
  durationMs: number;
  /** The HTTP status, or null when no response came (timeout, connection refused…). */
  statusCode: number | null;
  /** The status text, or what went wrong ("timed out after 10000 ms", "ECONNREFUSED"). */
  status: string;
  /** True when the hook counts this attempt as a success (2xx). */
  ok: boolean;
  request: { headers: Record<string, string>; body: string };
  response: { headers: Record<string, string>; body: string; truncated: boolean };
}

/**
 * In the hook's scope (hook-store.ts): `attempt-seq:<hook id>` → the last attempt id of the
 * hook, and `attempt:<hook id>:<attempt id, zero-padded>` → JSON DeliveryAttempt. Only the newest
 * `keep` attempts of a hook stay; older ones are removed as new ones arrive.
 */
const CAS_ATTEMPTS = 50;
/** Old attempts are removed in batches of this many, so that most writes are one round trip. */
const PRUNE_BATCH = 10;

function seqKey(hookId: number): string {
  return `attempt-seq:${hookId}`;
}

function attemptPrefix(hookId: number): string {
  return `attempt:${hookId}:`;
}

function attemptKey(hookId: number, id: number): string {
  return `${attemptPrefix(hookId)}${String(id).padStart(12, '0')}`;
}

export class DeliveryLog {
  constructor(
    private readonly kv: KVStore,
    private readonly keep: number,
  ) {}

  /**
   * Records an attempt under the next id of its hook and returns it with that id; undefined when
   * the hook no longer exists (deleted while the attempt ran: nothing may outlive it).
   */
  async record(target: HookTarget, attempt: Omit<DeliveryAttempt, 'id'>): Promise<DeliveryAttempt | undefined> {
    const scope = hookScope(target);
    const counter = seqKey(attempt.hookId);
    const hook = hookKey(attempt.hookId);
    for (let tries = 0; tries < CAS_ATTEMPTS; tries++) {
      const current = await this.kv.getMany(scope, [counter, hook]);
      const hookValue = current.get(hook);
      if (hookValue === undefined) return undefined;
      const last = current.get(counter);
      const id = Number(last ?? '0') + 1;
      const row: DeliveryAttempt = { id, ...attempt };
      const { conflicts } = await this.kv.compareAndSwap(
        scope,
        [
          { key: hook, expect: hookValue, value: hookValue },
          { key: counter, expect: last ?? null, value: String(id) },
          { key: attemptKey(attempt.hookId, id), expect: null, value: JSON.stringify(row) },
        ],
        'all',
      );
      if (conflicts.length > 0) continue;
      if (id % PRUNE_BATCH === 0 && id > this.keep) await this.prune(scope, attempt.hookId, id - this.keep);
      return row;
    }
    throw new Error(`delivery log of hook ${attempt.hookId} in ${scope}: gave up after ${CAS_ATTEMPTS} concurrent writes`);
  }

  /** The hook's attempts, newest first. */
  async list(target: HookTarget, hookId: number): Promise<DeliveryAttempt[]> {
    const entries = await this.kv.scan(hookScope(target), attemptPrefix(hookId));
    return entries.map(({ value }) => JSON.parse(value) as DeliveryAttempt).reverse();
  }

  async get(target: HookTarget, hookId: number, id: number): Promise<DeliveryAttempt | undefined> {
    if (!Number.isSafeInteger(id) || id <= 0) return undefined;
    const value = await this.kv.get(hookScope(target), attemptKey(hookId, id));
    return value === undefined ? undefined : (JSON.parse(value) as DeliveryAttempt);
  }

  /** Removes every attempt of a hook (after the hook itself is gone). */
  async clear(target: HookTarget, hookId: number): Promise<void> {
    const scope = hookScope(target);
    const entries = [...(await this.kv.scan(scope, attemptPrefix(hookId)))];
    const counter = await this.kv.get(scope, seqKey(hookId));
    if (counter !== undefined) entries.push({ key: seqKey(hookId), value: counter });
    if (entries.length > 0)
      await this.kv.compareAndSwap(
        scope,
        entries.map(({ key, value }) => ({ key, expect: value, value: null })),
        'each',
      );
  }

  /** Removes attempts up to id `upTo` that are still there (the batch that just fell out of the window). */
  private async prune(scope: string, hookId: number, upTo: number): Promise<void> {
    const keys: string[] = [];
    for (let id = Math.max(1, upTo - PRUNE_BATCH + 1); id <= upTo; id++) keys.push(attemptKey(hookId, id));
    const present = await this.kv.getMany(scope, keys);
    if (present.size === 0) return;
    await this.kv.compareAndSwap(
      scope,
      [...present].map(([key, value]) => ({ key, expect: value, value: null })),
      'each',
    );
  }
}
