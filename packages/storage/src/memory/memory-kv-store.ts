import type { CasMode, CasOp, CasResult, KVEntry, KVStore } from '../kv-store.js';
import { validateCasOps, validateKvName, validateKvPrefix, validateLogLimit } from '../validation.js';

/** Scopes of Maps, for unit tests of other packages. Every call is atomic (one tick). */
export class MemoryKVStore implements KVStore {
  private readonly scopes = new Map<string, Map<string, string>>();
  private readonly logs = new Map<string, string[]>();

  async get(scope: string, key: string): Promise<string | undefined> {
    validateKvName('scope', scope);
    validateKvName('key', key);
    return this.scopes.get(scope)?.get(key);
  }

  async getMany(scope: string, keys: readonly string[]): Promise<Map<string, string>> {
    validateKvName('scope', scope);
    for (const key of keys) validateKvName('key', key);
    const entries = this.scopes.get(scope);
    const found = new Map<string, string>();
    for (const key of keys) {
      const value = entries?.get(key);
      if (value !== undefined) found.set(key, value);
    }
    return found;
  }

  async scan(scope: string, prefix: string): Promise<KVEntry[]> {
    validateKvName('scope', scope);
    validateKvPrefix(prefix);
    return [...(this.scopes.get(scope) ?? [])]
      .filter(([key]) => key.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, value]) => ({ key, value }));
  }

  async compareAndSwap(scope: string, ops: readonly CasOp[], mode: CasMode): Promise<CasResult> {
    validateCasOps(scope, ops, mode);
    // The ops apply to a copy, kept only if they all may: the memory store serves tests, where scopes are small.
    const entries = new Map(this.scopes.get(scope));
    const conflicts: number[] = [];
    const logs: Array<{ name: string; entry: string }> = [];
    ops.forEach((op, index) => {
      if (!holds(entries, op)) {
        conflicts.push(index);
        return;
      }
      if (op.value === null) entries.delete(op.key);
      else entries.set(op.key, op.value);
      if (op.log) logs.push(op.log);
    });
    if (mode === 'all' && conflicts.length > 0) return { conflicts };
    this.scopes.set(scope, entries);
    for (const log of logs) this.appendEntry(scope, log.name, log.entry);
    return { conflicts };
  }

  async append(scope: string, log: string, entry: string): Promise<void> {
    validateKvName('scope', scope);
    validateKvName('log name', log);
    this.appendEntry(scope, log, entry);
  }

  async readLog(scope: string, log: string, options: { limit?: number } = {}): Promise<string[]> {
    validateKvName('scope', scope);
    validateKvName('log name', log);
    validateLogLimit(options.limit);
    const entries = this.logs.get(logId(scope, log)) ?? [];
    return options.limit === undefined ? [...entries] : entries.slice(Math.max(0, entries.length - options.limit));
  }

  async close(): Promise<void> {}

  private appendEntry(scope: string, log: string, entry: string): void {
    const id = logId(scope, log);
    const entries = this.logs.get(id);
    if (entries) entries.push(entry);
    else this.logs.set(id, [entry]);
  }
}

function holds(entries: ReadonlyMap<string, string>, op: CasOp): boolean {
  if ((entries.get(op.key) ?? null) !== op.expect) return false;
  if (op.requireAbsent?.keys?.some((key) => entries.has(key))) return false;
  const prefixes = op.requireAbsent?.prefixes ?? [];
  return prefixes.length === 0 || ![...entries.keys()].some((key) => prefixes.some((prefix) => key.startsWith(prefix)));
}

/** Scope and log name never hold a space, so one joins them unambiguously. */
function logId(scope: string, log: string): string {
  return `${scope} ${log}`;
}
