/**
 * Accounts (users and their password hashes, organisations, teams, memberships, collaborators,
 * tokens, sessions) live only in the KV store, in the one scope `accounts`, and no journal
 * records them. A snapshot copies that scope, in one consistent read, to the blob store; after
 * a lost KV store, the newest snapshot is what `restoreAccounts` brings back: the recovery
 * point of accounts is the last snapshot (refs and repositories come back from the ref journal
 * to the last acknowledged push).
 */
import { randomBytes } from 'node:crypto';
import { ACCOUNTS_SCOPE } from '@gitfleet/accounts';
import { RecoveryTargetNotEmpty, restoreScope } from '@gitfleet/repository';
import type { BlobStore, KVEntry, KVStore } from '@gitfleet/storage';

export const ACCOUNTS_SNAPSHOT_PREFIX = 'snapshots/accounts/';
/** Snapshots kept; older ones are deleted by the snapshot that makes them surplus. */
export const ACCOUNTS_SNAPSHOTS_KEPT = 48;
const FORMAT = 1;

interface AccountsSnapshot {
  format: typeof FORMAT;
  time: string;
  entries: KVEntry[];
}

interface SnapshotStores {
  kv: KVStore;
  blobs: BlobStore;
}

/** Writes a snapshot of the accounts scope; returns its key and how many entries it holds. */
export async function snapshotAccounts(stores: SnapshotStores, now = new Date()): Promise<{ key: string; entries: number }> {
  const entries = await stores.kv.scan(ACCOUNTS_SCOPE, '');
  const time = now.toISOString();
  // Keys sort by time (ISO 8601 without the colons keys may not hold); the suffix keeps two servers' apart.
  const key = `${ACCOUNTS_SNAPSHOT_PREFIX}${time.replace(/:/g, '')}-${randomBytes(4).toString('hex')}.json`;
  const snapshot: AccountsSnapshot = { format: FORMAT, time, entries };
  await stores.blobs.putIfAbsent(key, Buffer.from(JSON.stringify(snapshot)));
  const keys = await snapshotKeys(stores.blobs);
  for (const old of keys.slice(0, Math.max(0, keys.length - ACCOUNTS_SNAPSHOTS_KEPT))) await stores.blobs.delete(old);
  return { key, entries: entries.length };
}

/**
 * Writes a snapshot (the newest unless `key` names one) into the accounts scope, which must be
 * empty unless `force` (then the snapshot's keys overwrite what is there).
 */
export async function restoreAccounts(
  stores: SnapshotStores,
  options: { key?: string; force?: boolean } = {},
): Promise<{ key: string; time: string; entries: number }> {
  const key = options.key ?? (await snapshotKeys(stores.blobs)).at(-1);
  if (key === undefined) throw new Error(`no accounts snapshot in the blob store (under ${ACCOUNTS_SNAPSHOT_PREFIX})`);
  const bytes = await stores.blobs.get(key);
  if (!bytes) throw new Error(`accounts snapshot ${key} not found`);
  const snapshot = parseSnapshot(bytes, key);
  if (!options.force) {
    const [first] = await stores.kv.scan(ACCOUNTS_SCOPE, '');
    if (first)
      throw new RecoveryTargetNotEmpty(
        `the KV store already holds accounts (${first.key}): restoring writes only into an empty accounts scope`,
      );
  }
  await restoreScope(stores.kv, ACCOUNTS_SCOPE, snapshot.entries, options.force === true);
  return { key, time: snapshot.time, entries: snapshot.entries.length };
}

async function snapshotKeys(blobs: BlobStore): Promise<string[]> {
  const keys: string[] = [];
  for await (const { key } of blobs.list(ACCOUNTS_SNAPSHOT_PREFIX)) keys.push(key);
  return keys;
}

function parseSnapshot(bytes: Buffer, key: string): AccountsSnapshot {
  let value: Partial<AccountsSnapshot>;
  try {
    value = JSON.parse(bytes.toString('utf8')) as Partial<AccountsSnapshot>;
  } catch {
    throw new Error(`accounts snapshot ${key} is not JSON`);
  }
  const valid =
    value.format === FORMAT &&
    typeof value.time === 'string' &&
    Array.isArray(value.entries) &&
    value.entries.every((entry) => typeof entry?.key === 'string' && typeof entry.value === 'string');
  if (!valid) throw new Error(`accounts snapshot ${key} is not a valid snapshot`);
  return value as AccountsSnapshot;
}
