/**
 * Storage usage and quotas per owner: what an owner's repositories hold in git packs and in Git
 * LFS objects, against the limits a site administrator set (QuotaStore). Pushes and LFS uploads
 * ask for their room before they store a byte; the API, the web UI and the CLI show the usage.
 *
 * Quotas are soft at the edges: two pushes of one owner that start together both see the room
 * left before either, and may pass the limit together by what they add. The next one is refused.
 */
import type { AccountStore, QuotaStore, StorageQuota, User } from '@gitfleet/accounts';
import { Repository, type RepositoryRegistry, type Stores } from '@gitfleet/repository';
import { formatBytes } from '../format-bytes.js';
import { OwnerNotFound } from './errors.js';
import { existingOwner, ownerName } from './owners.js';

export interface StorageUsage {
  packsBytes: number;
  lfsBytes: number;
  totalBytes: number;
}

/** The bytes of Git LFS objects one repository holds. */
export interface LfsUsageSource {
  repositoryBytes(repositoryId: string): Promise<number>;
}

/** What may still be stored of one kind, and what to tell the client past it. */
export interface StorageRoom {
  bytes: number;
  /** Why nothing more fits: names the owner, the limit and its usage. */
  reason: string;
}

export type StoredKind = 'packs' | 'lfs';

export class StorageQuotas {
  /**
   * Measurements under way, by owner: pushes and uploads that ask at once share one. A finished
   * one is not kept: an upload stored just after it would be missing from it, and the next
   * request would be let past the limit by that much.
   */
  private readonly measuring = new Map<string, Promise<StorageUsage>>();

  constructor(
    private readonly registry: RepositoryRegistry,
    private readonly stores: Stores,
    private readonly quotas: QuotaStore,
    private readonly lfs: LfsUsageSource,
  ) {}

  quota(owner: string): Promise<StorageQuota> {
    return this.quotas.get(owner);
  }

  /** Replaces the owner's quota (a site administrator's call); the next push or upload is held to it. */
  setQuota(owner: string, quota: StorageQuota): Promise<void> {
    return this.quotas.set(owner, quota);
  }

  /** What the owner's repositories hold now: their active packs (replaced ones go within the grace period) and their LFS objects. */
  usage(owner: string): Promise<StorageUsage> {
    const key = owner.toLowerCase();
    const under = this.measuring.get(key);
    if (under) return under;
    const usage = this.measure(owner).finally(() => this.measuring.delete(key));
    this.measuring.set(key, usage);
    return usage;
  }

  /** What the owner may still store of `kind`; undefined when no limit applies. */
  async room(owner: string, kind: StoredKind): Promise<StorageRoom | undefined> {
    const quota = await this.quotas.get(owner);
    const own = kind === 'packs' ? quota.packsBytes : quota.lfsBytes;
    if (own === undefined && quota.totalBytes === undefined) return undefined;
    const usage = await this.usage(owner);
    const limits: Array<{ limit: number; used: number; what: string }> = [];
    if (own !== undefined) limits.push({ limit: own, used: kind === 'packs' ? usage.packsBytes : usage.lfsBytes, what: KIND_NAMES[kind] });
    if (quota.totalBytes !== undefined) limits.push({ limit: quota.totalBytes, used: usage.totalBytes, what: 'storage' });
    const tightest = limits.reduce((a, b) => (b.limit - b.used < a.limit - a.used ? b : a));
    return {
      bytes: Math.max(0, tightest.limit - tightest.used),
      reason:
        `${owner}'s ${tightest.what} quota is ${formatBytes(tightest.limit)} and ${formatBytes(tightest.used)} of it is used: ` +
        'nothing was stored; free space or ask an administrator for more',
    };
  }

  private async measure(owner: string): Promise<StorageUsage> {
    let packsBytes = 0;
    let lfsBytes = 0;
    for (const info of await this.registry.listOwnedBy(owner)) {
      const packs = await new Repository(info, this.stores).packs.list();
      packsBytes += packs.reduce((sum, pack) => sum + pack.size, 0);
      lfsBytes += await this.lfs.repositoryBytes(info.id);
    }
    return { packsBytes, lfsBytes, totalBytes: packsBytes + lfsBytes };
  }
}

const KIND_NAMES: Record<StoredKind, string> = { packs: 'git data', lfs: 'Git LFS' };

/** An owner's storage as the API, the web UI and the CLI show it. */
export interface OwnerStorage {
  owner: string;
  usage: StorageUsage;
  quota: StorageQuota;
}

/**
 * The owner's usage and quota, for whoever may see them: a site administrator, the user, or
 * someone who may create repositories under the organisation (who fills it may see how full it is).
 * OwnerNotFound when there is no such owner, or it is not theirs to see.
 */
export async function ownerStorage(
  accounts: AccountStore,
  quotas: StorageQuotas,
  viewer: User | undefined,
  name: string,
): Promise<OwnerStorage> {
  const owner = await existingOwner(accounts, name);
  const ownedName = ownerName(owner);
  if (!viewer || !(viewer.isAdmin || (await accounts.mayCreateUnder(viewer, ownedName)))) throw new OwnerNotFound(name);
  const [usage, quota] = await Promise.all([quotas.usage(ownedName), quotas.quota(ownedName)]);
  return { owner: ownedName, usage, quota };
}
