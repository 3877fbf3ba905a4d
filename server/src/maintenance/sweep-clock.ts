import type { KVStore } from '@gitfleet/storage';

/**
 * When the fleet last swept its repositories, shared by every server process: a process started
 * or replaced in the middle of an interval sweeps when the fleet's interval is due (not a whole
 * interval after its own start, which a process replaced more often than that would never reach),
 * and one process of the fleet sweeps per interval.
 */
export interface SweepClock {
  /** When (ms since the epoch) the fleet's last sweep started; undefined before the first. */
  last(): Promise<number | undefined>;
  /** Records a sweep starting at `now` if the last one is still `previous`: false when another process recorded one meanwhile. */
  claim(previous: number | undefined, now: number): Promise<boolean>;
}

const SCOPE = 'gitfleet';
const KEY = 'maintenance-last-sweep';

/** The sweep clock in the KV store, claimed by compare-and-swap; `key` tells the fleet's clocks apart. */
export function kvSweepClock(kv: KVStore, key = KEY): SweepClock {
  return {
    async last() {
      const stored = await kv.get(SCOPE, key);
      return stored === undefined ? undefined : Number(stored);
    },
    async claim(previous, now) {
      const { conflicts } = await kv.compareAndSwap(
        SCOPE,
        [{ key, expect: previous === undefined ? null : String(previous), value: String(now) }],
        'all',
      );
      return conflicts.length === 0;
    },
  };
}
