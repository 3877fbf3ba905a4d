/**
 * Small mutable state (refs, the pack registry, the repository registry) in a key/value
 * store. Every key lives in a *scope* (one repository, or the global registry): operations
 * that must be atomic together stay inside one scope, so a clustered backend can keep a
 * whole scope on one shard (Redis: the scope becomes the key's hash tag).
 *
 * Scopes, keys and log names are non-empty strings of printable ASCII without spaces
 * (anything else is refused with InvalidKeyError); values and log entries are any string.
 * Key order is plain byte order.
 */
export interface KVStore {
  get(scope: string, key: string): Promise<string | undefined>;
  /** Values of several keys of one scope, in one round trip. Absent keys are left out. */
  getMany(scope: string, keys: readonly string[]): Promise<Map<string, string>>;
  /** Every entry of `scope` whose key starts with `prefix`, sorted by key. */
  scan(scope: string, prefix: string): Promise<KVEntry[]>;
  /**
   * Compare-and-swap of several keys of one scope in one atomic step.
   * The ops are taken in order, each checked against the scope as the ops before it that
   * were applied left it (only `requireAbsent` can see those: a key appears once).
   * mode 'each': each op is applied on its own when its conditions hold.
   * mode 'all': the conflicts are those mode 'each' would find; if there is any, nothing is written.
   * An op's `log` entry is appended exactly when that op is applied.
   * A key may appear only once among `ops`.
   */
  compareAndSwap(scope: string, ops: readonly CasOp[], mode: CasMode): Promise<CasResult>;
  /** Appends to an append-only log of `scope`. */
  append(scope: string, log: string, entry: string): Promise<void>;
  /** Entries of a log, oldest first; with `limit`, only the newest `limit` of them. */
  readLog(scope: string, log: string, options?: { limit?: number }): Promise<string[]>;
  /** Releases the store's resources; calling it again is a no-op. */
  close(): Promise<void>;
}

export interface KVEntry {
  key: string;
  value: string;
}

export interface CasOp {
  key: string;
  /** The value the key must hold now; null means the key must be absent. */
  expect: string | null;
  /** The value to write; null deletes the key. */
  value: string | null;
  /** Appended to `log.name` when (and only when) this op is applied. */
  log?: { name: string; entry: string };
  /**
   * Further conditions of this op: none of `keys`, and no key starting with one of
   * `prefixes`, exists in the scope. (Refs use it so that `a` and `a/b` never both exist.)
   */
  requireAbsent?: { keys?: readonly string[]; prefixes?: readonly string[] };
}

export type CasMode = 'all' | 'each';

export interface CasResult {
  /**
   * Indexes into `ops` whose conditions did not hold, ascending.
   * Mode 'all': non-empty means nothing was written.
   */
  conflicts: number[];
}

/** Whether a compare-and-swap of `opCount` ops in `mode` that met `conflicts` wrote anything. */
export function casApplied(mode: CasMode, opCount: number, conflicts: readonly number[]): boolean {
  return opCount > 0 && (mode === 'all' ? conflicts.length === 0 : conflicts.length < opCount);
}
