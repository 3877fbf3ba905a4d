/**
 * Accounts (users and their password hashes, organisations, teams, memberships, collaborators,
 * tokens), webhooks and commit statuses live only in the KV store, and no journal records them.
 * A snapshot copies their scopes to the blob store, each scope in one consistent read; after a
 * lost KV store, `restoreSnapshot` brings the newest back: their recovery point is the last
 * snapshot (refs and repositories come back from the ref journal to the last acknowledged push).
 */
import { randomBytes } from 'node:crypto';
import { ACCOUNTS_SCOPE, type AccountStore } from '@gitfleet/accounts';
import { hookScopes, statusesScope } from '@gitfleet/events';
import { RecoveryTargetNotEmpty, restoreScope, type RepositoryRegistry } from '@gitfleet/repository';
import type { BlobStore, KVEntry, KVStore } from '@gitfleet/storage';

export const SNAPSHOT_PREFIX = 'snapshots/kv/';
/** Snapshots kept; older ones are deleted by the snapshot that makes them surplus. */
export const SNAPSHOTS_KEPT = 48;
const FORMAT = 1;

interface Snapshot {
  format: typeof FORMAT;
  time: string;
  /** Only the scopes that held something. */
  scopes: Array<{ scope: string; entries: KVEntry[] }>;
}

export interface SnapshotSources {
  kv: KVStore;
  blobs: BlobStore;
  accounts: AccountStore;
  registry: RepositoryRegistry;
}

/** Writes a snapshot; returns its key, and how many scopes and entries it holds. */
export async function writeSnapshot(sources: SnapshotSources, now = new Date()): Promise<{ key: string; scopes: number; entries: number }> {
  const { kv, blobs } = sources;
  const scopes: Snapshot['scopes'] = [];
  for (const scope of await snapshotScopes(sources)) {
    const entries = await kv.scan(scope, '');
    if (entries.length > 0) scopes.push({ scope, entries });
  }
  const time = now.toISOString();
  // Keys sort by time (ISO 8601 without the colons keys may not hold); the suffix keeps two writers' apart.
  const key = `${SNAPSHOT_PREFIX}${time.replace(/:/g, '')}-${randomBytes(4).toString('hex')}.json`;
  const snapshot: Snapshot = { format: FORMAT, time, scopes };
  await blobs.putIfAbsent(key, Buffer.from(JSON.stringify(snapshot)));
  const keys = await snapshotKeys(blobs);
  for (const old of keys.slice(0, Math.max(0, keys.length - SNAPSHOTS_KEPT))) await blobs.delete(old);
  return { key, scopes: scopes.length, entries: scopes.reduce((sum, { entries }) => sum + entries.length, 0) };
}

/**
 * Writes a snapshot (the newest unless `key` names one) back into the KV store, whose scopes it
 * holds must be empty unless `force` (then its keys overwrite what is there).
 */
export async function restoreSnapshot(
  stores: { kv: KVStore; blobs: BlobStore },
  options: { key?: string; force?: boolean } = {},
): Promise<{ key: string; time: string; scopes: number; entries: number }> {
  const key = options.key ?? (await snapshotKeys(stores.blobs)).at(-1);
  if (key === undefined) throw new Error(`no snapshot in the blob store (under ${SNAPSHOT_PREFIX})`);
  const bytes = await stores.blobs.get(key);
  if (!bytes) throw new Error(`snapshot ${key} not found`);
  const snapshot = parseSnapshot(bytes, key);
  if (!options.force) {
    for (const { scope } of snapshot.scopes) {
      const [first] = await stores.kv.scan(scope, '');
      if (first)
        throw new RecoveryTargetNotEmpty(
          `the KV store already holds ${first.key} in scope ${scope}: a snapshot is restored only into empty scopes`,
        );
    }
  }
  for (const { scope, entries } of snapshot.scopes) await restoreScope(stores.kv, scope, entries, options.force === true);
  return {
    key,
    time: snapshot.time,
    scopes: snapshot.scopes.length,
    entries: snapshot.scopes.reduce((sum, s) => sum + s.entries.length, 0),
  };
}

/** Accounts, the hooks of every repository and owner (and their id counter), every repository's statuses. */
async function snapshotScopes({ accounts, registry }: SnapshotSources): Promise<string[]> {
  const repositoryIds = (await registry.list()).map((info) => info.id);
  const ownerIds = [...(await accounts.listUsers()).map((user) => user.id), ...(await accounts.listOrganizations()).map((org) => org.id)];
  return [ACCOUNTS_SCOPE, ...hookScopes(repositoryIds, ownerIds), ...repositoryIds.map(statusesScope)];
}

async function snapshotKeys(blobs: BlobStore): Promise<string[]> {
  const keys: string[] = [];
  for await (const { key } of blobs.list(SNAPSHOT_PREFIX)) keys.push(key);
  return keys;
}

function parseSnapshot(bytes: Buffer, key: string): Snapshot {
  let value: Partial<Snapshot>;
  try {
    value = JSON.parse(bytes.toString('utf8')) as Partial<Snapshot>;
  } catch {
    throw new Error(`snapshot ${key} is not JSON`);
  }
  const valid =
    value.format === FORMAT &&
    typeof value.time === 'string' &&
    Array.isArray(value.scopes) &&
    value.scopes.every(
      (scope) =>
        typeof scope?.scope === 'string' &&
        Array.isArray(scope.entries) &&
        scope.entries.every((entry) => typeof entry?.key === 'string' && typeof entry.value === 'string'),
    );
  if (!valid) throw new Error(`snapshot ${key} is not a valid snapshot`);
  return value as Snapshot;
}
