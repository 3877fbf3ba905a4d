/**
 * Optimistic read-modify-write over the accounts scope: an attempt reads what it depends on,
 * decides, and stages writes; the commit is one compareAndSwap (mode 'all') expecting every
 * written or guarded key to still hold what the attempt read. On a conflict the whole attempt
 * runs again on fresh data, so its checks (name taken, last owner…) see what won the race.
 */
import { randomBytes } from 'node:crypto';
import type { CasOp, KVEntry, KVStore } from '@gitfleet/storage';
import { ACCOUNTS_SCOPE } from './keys.js';

const MAX_ATTEMPTS = 60;

export class Transaction {
  private readonly seen = new Map<string, string | null>();
  private readonly writes = new Map<string, string | null>();
  private readonly guarded = new Set<string>();

  constructor(private readonly kv: KVStore) {}

  async get(key: string): Promise<string | undefined> {
    if (!this.seen.has(key)) this.seen.set(key, (await this.kv.get(ACCOUNTS_SCOPE, key)) ?? null);
    return this.seen.get(key) ?? undefined;
  }

  async getMany(keys: readonly string[]): Promise<Map<string, string>> {
    const missing = [...new Set(keys)].filter((key) => !this.seen.has(key));
    if (missing.length > 0) {
      const found = await this.kv.getMany(ACCOUNTS_SCOPE, missing);
      for (const key of missing) this.seen.set(key, found.get(key) ?? null);
    }
    const values = new Map<string, string>();
    for (const key of keys) {
      const value = this.seen.get(key);
      if (value != null) values.set(key, value);
    }
    return values;
  }

  async scan(prefix: string): Promise<KVEntry[]> {
    const entries = await this.kv.scan(ACCOUNTS_SCOPE, prefix);
    // The first read of a key is what the commit expects; a later differing read fails the commit.
    for (const { key, value } of entries) if (!this.seen.has(key)) this.seen.set(key, value);
    return entries;
  }

  /** Stages a write (null deletes) of a key this attempt has read. */
  set(key: string, value: string | null): void {
    if (!this.seen.has(key)) throw new Error(`accounts: key ${key} written without being read first`);
    this.writes.set(key, value);
  }

  delete(key: string): void {
    this.set(key, null);
  }

  /** Stages the creation of a key that must not exist yet (fresh ids, claimed names). */
  create(key: string, value: string): void {
    if (!this.seen.has(key)) this.seen.set(key, null);
    this.set(key, value);
  }

  /** The commit also requires this key (read before) to be unchanged. */
  guard(key: string): void {
    if (!this.seen.has(key)) throw new Error(`accounts: key ${key} guarded without being read first`);
    this.guarded.add(key);
  }

  /** Gives a revision key a new value, so that concurrent deletions scanning for its entries retry. */
  async bump(key: string): Promise<void> {
    await this.get(key);
    this.set(key, randomRevision());
  }

  ops(): CasOp[] {
    const keys = new Set([...this.writes.keys(), ...this.guarded]);
    return [...keys].map((key) => ({
      key,
      expect: this.seen.get(key) ?? null,
      value: this.writes.has(key) ? (this.writes.get(key) ?? null) : (this.seen.get(key) ?? null),
    }));
  }
}

/** Runs `attempt` until its staged writes commit; domain errors thrown by it end the loop. */
export async function transact<T>(kv: KVStore, what: string, attempt: (tx: Transaction) => Promise<T>): Promise<T> {
  for (let round = 0; round < MAX_ATTEMPTS; round++) {
    const tx = new Transaction(kv);
    const result = await attempt(tx);
    const ops = tx.ops();
    if (ops.length === 0) return result;
    const { conflicts } = await kv.compareAndSwap(ACCOUNTS_SCOPE, ops, 'all');
    if (conflicts.length === 0) return result;
    // Jitter spreads out writers that keep colliding on the same keys (id sequences).
    await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2 ** round, 50)));
  }
  throw new Error(`accounts: ${what} kept conflicting with concurrent changes after ${MAX_ATTEMPTS} attempts`);
}

function randomRevision(): string {
  return randomBytes(8).toString('hex');
}

/** The next id of a sequence ("1", "2"…: numeric like GitHub's and Gitea's ids). */
export async function nextId(tx: Transaction, key: string): Promise<string> {
  const last = await tx.get(key);
  const next = String(Number(last ?? '0') + 1);
  tx.set(key, next);
  return next;
}
