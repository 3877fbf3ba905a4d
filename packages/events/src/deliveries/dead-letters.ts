import type { CasOp, KVStore } from '@gitfleet/storage';
import type { DeliveryEvent, HookTarget } from '../hooks/hook.js';
import { hookKey, hookScope } from '../hooks/hook-store.js';

/**
 * A delivery that will not be tried again by itself: its automatic attempts are exhausted, the
 * receiver refused it for good (a 4xx), or its hook was inactive when it came due. It is kept,
 * payload and all, until it is replayed successfully or discarded, so that no event is given up
 * without its hook's owner seeing it.
 */
export interface DeadLetter {
  /** X-GitHub-Delivery: a replay sends it again. */
  guid: string;
  hookId: number;
  event: DeliveryEvent;
  action: string | null;
  repositoryId: number | null;
  /** JSON text, as it was when the delivery was created. */
  payload: string;
  failedAt: string;
  /** The last attempt's status ("503 Service Unavailable", "timed out…"), or why none was made. */
  reason: string;
  /** The delivery-log id of the last attempt; null when none was made. */
  lastAttemptId: number | null;
  /** Attempts its last run made (0 when none was). */
  attempts: number;
  /** Arrival order in the hook's list (the newest has the highest). */
  seq: number;
}

export interface DeadLetterPage {
  letters: DeadLetter[];
  /** Dead letters the hook has now. */
  total: number;
  /** Dead letters removed over the hook's lifetime because the list was full (the oldest go first). */
  evicted: number;
}

/** What happened to a dead letter, for metrics. */
export type DeadLetterChange = 'added' | 'replayed' | 'discarded' | 'evicted';

/**
 * Dead letters per hook, in the hook's scope (hook-store.ts), so that they go with the hook:
 *   `dead:<hook id>:<guid>` → JSON DeadLetter
 *   `dead-order:<hook id>:<seq, zero-padded>` → guid: arrival order, small values to count and page
 *   `dead-seq:<hook id>` → the last seq handed out
 *   `dead-evicted:<hook id>` → how many were evicted
 * At most `keep` per hook: beyond it the oldest is removed and counted (shown by the API and the
 * web page, and in the metrics), so that a receiver down for months cannot fill the store.
 */
const CAS_ATTEMPTS = 50;

/** Letters removed by one write of clear(): two keys each. */
const CLEAR_BATCH = 500;

/** Delivery guids are UUIDs; anything else names no dead letter (and could not be part of a key). */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const letterPrefix = (hookId: number) => `dead:${hookId}:`;
const letterKey = (hookId: number, guid: string) => `${letterPrefix(hookId)}${guid}`;
const orderPrefix = (hookId: number) => `dead-order:${hookId}:`;
const orderKey = (hookId: number, seq: number) => `${orderPrefix(hookId)}${String(seq).padStart(12, '0')}`;
const seqKey = (hookId: number) => `dead-seq:${hookId}`;
const evictedKey = (hookId: number) => `dead-evicted:${hookId}`;

export class DeadLetters {
  constructor(
    private readonly kv: KVStore,
    private readonly keep: number,
    private readonly changed: (change: DeadLetterChange, count: number) => void = () => undefined,
  ) {}

  /**
   * Keeps a delivery that failed for good (replacing an earlier dead letter of the same guid, whose
   * replay failed in turn). Undefined when the hook no longer exists: nothing outlives it.
   */
  async add(target: HookTarget, letter: Omit<DeadLetter, 'seq'>): Promise<DeadLetter | undefined> {
    const scope = hookScope(target);
    const { hookId, guid } = letter;
    const keys = { hook: hookKey(hookId), counter: seqKey(hookId), letter: letterKey(hookId, guid) };
    for (let tries = 0; tries < CAS_ATTEMPTS; tries++) {
      const current = await this.kv.getMany(scope, Object.values(keys));
      const hookValue = current.get(keys.hook);
      if (hookValue === undefined) return undefined;
      const last = current.get(keys.counter) ?? null;
      const previous = current.get(keys.letter) ?? null;
      const seq = Number(last ?? '0') + 1;
      const stored: DeadLetter = { ...letter, seq };
      const ops: CasOp[] = [
        // Rewritten with its own value: the letter is added only while its hook exists.
        { key: keys.hook, expect: hookValue, value: hookValue },
        { key: keys.counter, expect: last, value: String(seq) },
        { key: keys.letter, expect: previous, value: JSON.stringify(stored) },
        { key: orderKey(hookId, seq), expect: null, value: guid },
      ];
      if (previous !== null) {
        const before = JSON.parse(previous) as DeadLetter;
        ops.push({ key: orderKey(hookId, before.seq), expect: guid, value: null });
      }
      const { conflicts } = await this.kv.compareAndSwap(scope, ops, 'all');
      if (conflicts.length > 0) continue;
      if (previous === null) this.changed('added', 1);
      // A hook given no more letters than it keeps cannot have too many: no need to read its list.
      if (seq > this.keep) await this.evictBeyondBound(scope, hookId);
      return stored;
    }
    throw new Error(`dead letters of hook ${hookId} in ${scope}: gave up adding ${guid} after ${CAS_ATTEMPTS} concurrent writes`);
  }

  async get(target: HookTarget, hookId: number, guid: string): Promise<DeadLetter | undefined> {
    if (!GUID.test(guid)) return undefined;
    const value = await this.kv.get(hookScope(target), letterKey(hookId, guid));
    return value === undefined ? undefined : (JSON.parse(value) as DeadLetter);
  }

  /** The page of the hook's dead letters at `offset` (newest first), with the counts. */
  async list(target: HookTarget, hookId: number, offset: number, limit: number): Promise<DeadLetterPage> {
    const scope = hookScope(target);
    const [order, evicted] = await Promise.all([this.kv.scan(scope, orderPrefix(hookId)), this.kv.get(scope, evictedKey(hookId))]);
    const guids = order
      .reverse()
      .slice(offset, offset + limit)
      .map(({ value }) => letterKey(hookId, value));
    const values = guids.length === 0 ? new Map<string, string>() : await this.kv.getMany(scope, guids);
    const letters = guids.flatMap((key) => {
      const value = values.get(key);
      return value === undefined ? [] : [JSON.parse(value) as DeadLetter];
    });
    return { letters, total: order.length, evicted: Number(evicted ?? '0') };
  }

  /**
   * Removes a dead letter: replayed successfully (`replayed`) or discarded by its owner. False
   * when there was none (never dead, or already removed by a concurrent replay).
   */
  async remove(target: HookTarget, hookId: number, guid: string, why: 'replayed' | 'discarded'): Promise<boolean> {
    if (!GUID.test(guid)) return false;
    const scope = hookScope(target);
    const key = letterKey(hookId, guid);
    for (let tries = 0; tries < CAS_ATTEMPTS; tries++) {
      const value = await this.kv.get(scope, key);
      if (value === undefined) return false;
      const { seq } = JSON.parse(value) as DeadLetter;
      const { conflicts } = await this.kv.compareAndSwap(
        scope,
        [
          { key, expect: value, value: null },
          { key: orderKey(hookId, seq), expect: guid, value: null },
        ],
        'all',
      );
      if (conflicts.length === 0) {
        this.changed(why, 1);
        return true;
      }
    }
    throw new Error(`dead letters of hook ${hookId} in ${scope}: gave up removing ${guid} after ${CAS_ATTEMPTS} concurrent writes`);
  }

  /**
   * Removes every dead letter of a hook (after the hook itself is gone, so none is added meanwhile),
   * a batch of letters per write; found through the order list, whose values are small, rather
   * than by reading every payload at once.
   */
  async clear(target: HookTarget, hookId: number): Promise<void> {
    const scope = hookScope(target);
    const order = await this.kv.scan(scope, orderPrefix(hookId));
    for (let start = 0; start < order.length; start += CLEAR_BATCH) {
      const batch = order.slice(start, start + CLEAR_BATCH);
      const letters = await this.kv.getMany(
        scope,
        batch.map(({ value: guid }) => letterKey(hookId, guid)),
      );
      const entries = [...batch, ...[...letters].map(([key, value]) => ({ key, value }))];
      await this.deleteEach(scope, entries);
    }
    const counters = await this.kv.getMany(scope, [seqKey(hookId), evictedKey(hookId)]);
    await this.deleteEach(
      scope,
      [...counters].map(([key, value]) => ({ key, value })),
    );
  }

  private async deleteEach(scope: string, entries: ReadonlyArray<{ key: string; value: string }>): Promise<void> {
    if (entries.length === 0) return;
    await this.kv.compareAndSwap(
      scope,
      entries.map(({ key, value }) => ({ key, expect: value, value: null })),
      'each',
    );
  }

  /**
   * Removes the oldest letters beyond the bound, counting them. Concurrent additions may leave
   * the list above the bound by as many as they are, until the next addition.
   */
  private async evictBeyondBound(scope: string, hookId: number): Promise<void> {
    const order = await this.kv.scan(scope, orderPrefix(hookId));
    const excess = order.slice(0, Math.max(0, order.length - this.keep));
    if (excess.length === 0) return;
    const letters = await this.kv.getMany(
      scope,
      excess.map(({ value }) => letterKey(hookId, value)),
    );
    const evicted = await this.kv.get(scope, evictedKey(hookId));
    const ops = excess.flatMap(({ key, value: guid }): CasOp[] => {
      const letter = letters.get(letterKey(hookId, guid));
      return [
        { key, expect: guid, value: null },
        ...(letter === undefined ? [] : [{ key: letterKey(hookId, guid), expect: letter, value: null }]),
      ];
    });
    ops.push({ key: evictedKey(hookId), expect: evicted ?? null, value: String(Number(evicted ?? '0') + excess.length) });
    // Lost to a concurrent change: the next addition evicts again, and counts what it removes then.
    const { conflicts } = await this.kv.compareAndSwap(scope, ops, 'all');
    if (conflicts.length === 0) this.changed('evicted', excess.length);
  }
}
