import type { KVStore } from '@gitfleet/storage';

/** Keys removed per compare-and-swap: one CAS carries every key it names. */
const DELETE_BATCH = 500;

/** Removes every key of a KV scope (what belonged to a deleted repository or account). */
export async function clearScope(kv: KVStore, scope: string): Promise<void> {
  const entries = await kv.scan(scope, '');
  for (let start = 0; start < entries.length; start += DELETE_BATCH) {
    const ops = entries.slice(start, start + DELETE_BATCH).map(({ key, value }) => ({ key, expect: value, value: null }));
    await kv.compareAndSwap(scope, ops, 'each');
  }
}
