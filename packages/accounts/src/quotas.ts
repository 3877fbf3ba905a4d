import type { KVStore } from '@gitfleet/storage';
import { ACCOUNTS_SCOPE, lower } from './keys.js';
import { InvalidAccountInput } from './types.js';

/** What an owner (user or organisation) may store, in bytes; a limit left out is no limit. */
export interface StorageQuota {
  /** Git packs of every repository of the owner. */
  packsBytes?: number;
  /** Git LFS objects of every repository of the owner. */
  lfsBytes?: number;
  /** Both together. */
  totalBytes?: number;
}

export const QUOTA_KINDS = ['packsBytes', 'lfsBytes', 'totalBytes'] as const;

const quotaKey = (owner: string) => `quota:${lower(owner)}`;

/**
 * Storage quotas per owner, set by a site administrator. Kept in the accounts scope (the
 * accounts snapshot carries them); an owner without a record has no limit.
 */
export class QuotaStore {
  constructor(private readonly kv: KVStore) {}

  async get(owner: string): Promise<StorageQuota> {
    const stored = await this.kv.get(ACCOUNTS_SCOPE, quotaKey(owner));
    return stored === undefined ? {} : (JSON.parse(stored) as StorageQuota);
  }

  /** Replaces the owner's quota; an empty one removes the record. */
  async set(owner: string, quota: StorageQuota): Promise<void> {
    const normalized: StorageQuota = {};
    for (const kind of QUOTA_KINDS) {
      const limit = quota[kind];
      if (limit === undefined) continue;
      if (!Number.isSafeInteger(limit) || limit < 0)
        throw new InvalidAccountInput(`quota ${kind} must be a whole number of bytes, not ${limit}`);
      normalized[kind] = limit;
    }
    const key = quotaKey(owner);
    const value = Object.keys(normalized).length === 0 ? null : JSON.stringify(normalized);
    const current = (await this.kv.get(ACCOUNTS_SCOPE, key)) ?? null;
    const { conflicts } = await this.kv.compareAndSwap(ACCOUNTS_SCOPE, [{ key, expect: current, value }], 'all');
    // Another administrator set it meanwhile: the last one to ask wins, as with a plain write.
    if (conflicts.length > 0) return this.set(owner, quota);
  }
}
