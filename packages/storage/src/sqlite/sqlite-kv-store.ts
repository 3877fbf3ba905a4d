import { setImmediate as nextTurn } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { whenUnlocked } from './busy-wait.js';
import { useWalWithSync, type WalSync } from './wal-sync.js';
import { StorageFull, WriteOutcomeUnknown, isOutOfSpace } from '../errors.js';
import { casApplied, type CasMode, type CasOp, type CasResult, type KVEntry, type KVStore } from '../kv-store.js';
import { validateCasOps, validateKvName, validateKvPrefix, validateLogLimit } from '../validation.js';

/** How long a call waits, in all, for another process's transaction before giving up. */
const DEFAULT_BUSY_TIMEOUT_MS = 10_000;

/** A compare-and-swap of more ops, or a getMany of more keys, gives the event loop a turn between checking them and running its query. */
const LARGE_BATCH = 1000;

/**
 * Above every character a key may hold (printable ASCII), so [prefix, prefix + this)
 * is exactly the keys starting with prefix, as an index range. LIKE would treat '%' and
 * '_' in keys as wildcards.
 */
const PREFIX_UPPER_BOUND = '\uffff';

/**
 * The embedded KV store: one SQLite file, shareable by several processes.
 *
 * better-sqlite3 is synchronous; each call is one short indexed statement or transaction,
 * so it blocks the event loop only for a commit. A commit does not wait for the disk there:
 * see WalSync for how a write is made durable before it is acknowledged. A call that meets
 * another process's lock (the server's other workers share the file) waits for it off the event
 * loop (whenUnlocked).
 */
export class SqliteKVStore implements KVStore {
  private readonly db: Database.Database;
  private readonly statements;
  private readonly casTransaction;
  private readonly appendTransaction;
  private readonly walSync: WalSync;
  private readonly busyTimeoutMs: number;

  constructor(path: string, options: { busyTimeoutMs?: number } = {}) {
    this.db = new Database(path);
    this.busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    // Set first: switching to WAL and creating tables may wait for another process (once, at start).
    this.db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
    // WAL: readers never block the writer, and other processes see commits at once.
    this.walSync = useWalWithSync(this.db, path);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS kv_entries (
        scope TEXT NOT NULL,
        key   TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (scope, key)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS kv_logs (
        scope TEXT NOT NULL,
        log   TEXT NOT NULL,
        seq   INTEGER NOT NULL,
        entry TEXT NOT NULL,
        PRIMARY KEY (scope, log, seq)
      ) WITHOUT ROWID;
    `);
    this.statements = {
      get: this.db.prepare<[string, string], { value: string }>('SELECT value FROM kv_entries WHERE scope = ? AND key = ?'),
      getMany: this.db.prepare<[string, string], KVEntry>(
        'SELECT key, value FROM kv_entries WHERE scope = ? AND key IN (SELECT value FROM json_each(?))',
      ),
      anyWithPrefix: this.db.prepare<[string, string, string], { found: number }>(
        'SELECT 1 AS found FROM kv_entries WHERE scope = ? AND key >= ? AND key < ? LIMIT 1',
      ),
      scan: this.db.prepare<[string, string, string], KVEntry>(
        'SELECT key, value FROM kv_entries WHERE scope = ? AND key >= ? AND key < ? ORDER BY key',
      ),
      put: this.db.prepare<[string, string, string]>(
        'INSERT INTO kv_entries (scope, key, value) VALUES (?, ?, ?) ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value',
      ),
      delete: this.db.prepare<[string, string]>('DELETE FROM kv_entries WHERE scope = ? AND key = ?'),
      append: this.db.prepare<{ scope: string; log: string; entry: string }>(
        `INSERT INTO kv_logs (scope, log, seq, entry)
         SELECT :scope, :log, COALESCE(MAX(seq), 0) + 1, :entry FROM kv_logs WHERE scope = :scope AND log = :log`,
      ),
      readLog: this.db.prepare<[string, string], { entry: string }>('SELECT entry FROM kv_logs WHERE scope = ? AND log = ? ORDER BY seq'),
      readLogTail: this.db.prepare<[string, string, number], { entry: string }>(
        `SELECT entry FROM (
           SELECT seq, entry FROM kv_logs WHERE scope = ? AND log = ? ORDER BY seq DESC LIMIT ?
         ) ORDER BY seq`,
      ),
    };
    this.casTransaction = this.db.transaction((scope: string, ops: readonly CasOp[], mode: CasMode): CasResult => {
      const conflicts: number[] = [];
      ops.forEach((op, index) => {
        if (this.holds(scope, op)) this.apply(scope, op);
        else conflicts.push(index);
      });
      // Throwing rolls the transaction back: the ops applied before a conflict are undone.
      if (mode === 'all' && conflicts.length > 0) throw new RolledBack(conflicts);
      return { conflicts };
    });
    this.appendTransaction = this.db.transaction((row: { scope: string; log: string; entry: string }) => {
      this.statements.append.run(row);
    });
    // From now on a lock is waited for off the event loop (unlocked()).
    this.db.pragma('busy_timeout = 0');
  }

  async get(scope: string, key: string): Promise<string | undefined> {
    validateKvName('scope', scope);
    validateKvName('key', key);
    return this.unlocked(
      () => `get in scope ${scope}`,
      () => this.statements.get.get(scope, key)?.value,
    );
  }

  async getMany(scope: string, keys: readonly string[]): Promise<Map<string, string>> {
    validateKvName('scope', scope);
    for (const key of keys) validateKvName('key', key);
    if (keys.length === 0) return new Map();
    if (keys.length > LARGE_BATCH) await nextTurn();
    const rows = await this.unlocked(
      () => `getMany in scope ${scope}`,
      () => this.statements.getMany.all(scope, JSON.stringify(keys)),
    );
    return new Map(rows.map((row) => [row.key, row.value]));
  }

  async scan(scope: string, prefix: string): Promise<KVEntry[]> {
    validateKvName('scope', scope);
    validateKvPrefix(prefix);
    return this.unlocked(
      () => `scan of scope ${scope}`,
      () => this.statements.scan.all(scope, prefix, prefix + PREFIX_UPPER_BOUND),
    );
  }

  async compareAndSwap(scope: string, ops: readonly CasOp[], mode: CasMode): Promise<CasResult> {
    validateCasOps(scope, ops, mode);
    // Checking the ops and running the transaction each hold the event loop for tens of
    // milliseconds at ten thousand ops (a push of many refs): not both in one stretch.
    if (ops.length > LARGE_BATCH) await nextTurn();
    // IMMEDIATE takes the write lock before reading, so no other process can change a
    // key between our comparison and our write.
    let result: CasResult;
    try {
      // Checked on every try: a sync that failed while this call waited for the lock forbids the commit.
      result = await this.unlocked(
        () => `compareAndSwap in scope ${scope}`,
        () => {
          this.walSync.assertWritable();
          return this.casTransaction.immediate(scope, ops, mode);
        },
      );
    } catch (error) {
      if (!(error instanceof RolledBack)) throw this.fullAsStorageFull(error, `compareAndSwap in scope ${scope}`);
      result = { conflicts: error.conflicts };
    }
    // A conflict too: the value it met may be a commit that is not durable yet.
    await this.walSync.sync().catch((error: unknown) => {
      if (!casApplied(mode, ops.length, result.conflicts)) throw error;
      // Committed, so visible to every reader, but perhaps not on disk: what a power loss may take.
      throw new WriteOutcomeUnknown(
        `SQLite KV store ${this.db.name}: compareAndSwap in scope ${scope} was applied but could not be made durable: ${(error as Error).message}`,
        { cause: error },
      );
    });
    return result;
  }

  async append(scope: string, log: string, entry: string): Promise<void> {
    validateKvName('scope', scope);
    validateKvName('log name', log);
    try {
      await this.unlocked(
        () => `append to log ${log} of scope ${scope}`,
        () => {
          this.walSync.assertWritable();
          this.appendTransaction.immediate({ scope, log, entry });
        },
      );
    } catch (error) {
      throw this.fullAsStorageFull(error, `append to log ${log} of scope ${scope}`);
    }
    await this.walSync.sync();
  }

  async readLog(scope: string, log: string, options: { limit?: number } = {}): Promise<string[]> {
    validateKvName('scope', scope);
    validateKvName('log name', log);
    validateLogLimit(options.limit);
    const rows = await this.unlocked(
      () => `read of log ${log} of scope ${scope}`,
      () =>
        options.limit === undefined ? this.statements.readLog.all(scope, log) : this.statements.readLogTail.all(scope, log, options.limit),
    );
    return rows.map((row) => row.entry);
  }

  async close(): Promise<void> {
    await this.walSync.close();
    if (this.db.open) this.db.close();
  }

  private unlocked<T>(what: () => string, call: () => T): Promise<T> {
    return whenUnlocked(this.db, this.busyTimeoutMs, () => `KV store: ${what()}`, call);
  }

  /** SQLITE_FULL as the typed StorageFull (the transaction was rolled back); any other error as it is. */
  private fullAsStorageFull(error: unknown, what: string): unknown {
    if (!isOutOfSpace(error)) return error;
    return new StorageFull(`SQLite KV store ${this.db.name}: no space left for ${what}`, { cause: error });
  }

  private holds(scope: string, op: CasOp): boolean {
    if ((this.statements.get.get(scope, op.key)?.value ?? null) !== op.expect) return false;
    if (op.requireAbsent?.keys?.some((key) => this.statements.get.get(scope, key) !== undefined)) return false;
    return !op.requireAbsent?.prefixes?.some(
      (prefix) => this.statements.anyWithPrefix.get(scope, prefix, prefix + PREFIX_UPPER_BOUND) !== undefined,
    );
  }

  private apply(scope: string, op: CasOp): void {
    if (op.value === null) this.statements.delete.run(scope, op.key);
    else this.statements.put.run(scope, op.key, op.value);
    if (op.log) this.statements.append.run({ scope, log: op.log.name, entry: op.log.entry });
  }
}

/** A mode 'all' compare-and-swap that found conflicts: thrown to roll its transaction back. */
class RolledBack extends Error {
  constructor(readonly conflicts: number[]) {
    super(`compareAndSwap rolled back: ${conflicts.length} conflict(s)`);
    this.name = 'RolledBack';
  }
}
