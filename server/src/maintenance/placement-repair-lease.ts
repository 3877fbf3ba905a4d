import { MaintenanceLease } from '@gitfleet/repository';
import type { KVStore } from '@gitfleet/storage';

/** The KV scope of the lease: one for the whole fleet, apart from every repository's. */
export const PLACEMENT_REPAIR_LEASE_SCOPE = 'gitfleet-placement-repair';
/** Lease duration, renewed every third of it while a run lasts. */
export const DEFAULT_PLACEMENT_REPAIR_LEASE_MS = 5 * 60 * 1000;

/**
 * Runs `work` holding the fleet's placement repair lease (a MaintenanceLease in its own scope),
 * renewed every third of `leaseMs`; undefined, without running it, when another runner holds the
 * lease. `work` gets a signal that aborts when the lease could not be renewed (or `stop` aborts):
 * a runner that dies stops renewing, and the lease is free again once it expires.
 */
export async function underPlacementRepairLease<T>(
  kv: KVStore,
  holder: string,
  leaseMs: number,
  stop: AbortSignal | undefined,
  work: (lease: MaintenanceLease, signal: AbortSignal) => Promise<T>,
): Promise<{ result: T } | undefined> {
  const lease = await MaintenanceLease.acquire(kv, PLACEMENT_REPAIR_LEASE_SCOPE, holder, leaseMs);
  if (!lease) return undefined;
  const leaseLost = new AbortController();
  const renewal = setInterval(() => void lease.renew().catch((error: unknown) => leaseLost.abort(error)), leaseMs / 3);
  try {
    return { result: await work(lease, stop ? AbortSignal.any([stop, leaseLost.signal]) : leaseLost.signal) };
  } finally {
    clearInterval(renewal);
    await lease.release();
  }
}

/** The check a run makes before each removal: a third of the lease left, so that a stalled runner wakes up unable to delete. */
export function removalGuard(lease: MaintenanceLease): (key: string, store: string) => void {
  return (key, store) => lease.assertHeldFor(lease.durationMs / 3, `removing blob ${key} from store ${store}`);
}
